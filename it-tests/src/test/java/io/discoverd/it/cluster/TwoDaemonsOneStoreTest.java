package io.discoverd.it.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.EachBackend;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.TestStore;
import io.discoverd.it.json.JsonRpcClient.Msg;
import io.discoverd.it.json.JsonRpcClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

/**
 * Two daemons on one store (PROTOCOL.md §5.7, §5.9, §6.1; checklist #46, #47, #49): the same
 * instances with the same {@code Created} through either daemon, changes through either reaching
 * subscribers on both, read-your-writes across daemons. Registration TTL 3 s, so the cross-daemon
 * heartbeat check is short.
 */
@EachBackend
class TwoDaemonsOneStoreTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    private static final Duration ITEM = Duration.ofSeconds(10);

    @TempDir
    static Path dir;
    static TestStore store;
    static DaemonProcess a;
    static DaemonProcess b;

    @BeforeParameterizedClassInvocation
    static void start(Backend backend) throws Exception {
        store = backend.startStore();
        a = StoreAndDaemon.startDaemon(store, dir.resolve(backend.configName()).resolve("a"), "registrationTtl: 3s");
        b = StoreAndDaemon.startDaemon(store, dir.resolve(backend.configName()).resolve("b"), "registrationTtl: 3s");
    }

    @AfterParameterizedClassInvocation
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {b, a, store}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static Map<String, JsonNode> byAddr(List<JsonNode> snapshot) {
        Map<String, JsonNode> m = new HashMap<>();
        snapshot.forEach(u -> m.put(u.path("Addr").asText(), u));
        return m;
    }

    private static JsonNode awaitItem(JsonRpcClient c, String stream, Predicate<JsonNode> what, String description)
            throws InterruptedException {
        JsonNode id = JsonRpcClient.MAPPER.valueToTree(stream);
        return c.take(m -> m.hasId(id) && m.error() == null && what.test(m.result()), ITEM, description).result();
    }

    @Test
    @DisplayName("#46 Register through A, Subscribe through B: same Created; changes through either daemon reach subscribers on both; Agent.Leader equal on both")
    void changesFlowBothWays() throws Exception {
        String name = "both46";
        try (JsonRpcClient ca = JsonRpcClient.connect(a.port()); JsonRpcClient cb = JsonRpcClient.connect(b.port())) {
            ca.register(name, ":4601", Map.of("k", "v"));
            Map<String, JsonNode> viaB = byAddr(cb.subscribe(name, "sb"));
            Map<String, JsonNode> viaA = byAddr(ca.subscribe(name, "sa"));
            assertEquals(viaA, viaB);
            assertEquals(1, viaB.size());
            long created = viaB.get("127.0.0.1:4601").path("Created").asLong();
            assertTrue(created > 0);

            // A change through A reaches both subscribers, then one through B, then an Unregister through B.
            ca.register(name, ":4601", Map.of("k", "w"));
            for (JsonRpcClient c : List.of(ca, cb)) {
                JsonNode u = awaitItem(c, c == ca ? "sa" : "sb", x -> x.path("Attrs").path("k").asText().equals("w"), "attr change via A");
                assertEquals(created, u.path("Created").asLong());
            }
            cb.register(name, ":4602", null);
            JsonNode onA = awaitItem(ca, "sa", x -> x.path("Addr").asText().equals("127.0.0.1:4602"), "register via B on A");
            JsonNode onB = awaitItem(cb, "sb", x -> x.path("Addr").asText().equals("127.0.0.1:4602"), "register via B on B");
            assertEquals(onA, onB);
            assertTrue(onA.path("Created").asLong() > created);

            for (JsonRpcClient c : List.of(ca, cb)) {
                Msg l = c.call("Agent.Leader", JsonRpcClient.args(name, null, null));
                assertNull(l.error(), l.raw());
                assertEquals("127.0.0.1:4601", l.result().path("Addr").asText());
                assertEquals(created, l.result().path("Created").asLong());
            }

            cb.unregister(name, ":4601");
            for (JsonRpcClient c : List.of(ca, cb)) {
                JsonNode off = awaitItem(c, c == ca ? "sa" : "sb", x -> !x.path("Online").asBoolean(), "offline via B");
                assertEquals("127.0.0.1:4601", off.path("Addr").asText());
            }
            Msg la = ca.call("Agent.Leader", JsonRpcClient.args(name, null, null));
            Msg lb = cb.call("Agent.Leader", JsonRpcClient.args(name, null, null));
            assertEquals(la.result(), lb.result());
            assertEquals("127.0.0.1:4602", la.result().path("Addr").asText());
        }
    }

    @Test
    @DisplayName("#49 success reply of Register through A, then Subscribe through B: included; same with Unregister: excluded (20 rounds)")
    void readYourWritesAcrossDaemons() throws Exception {
        try (JsonRpcClient ca = JsonRpcClient.connect(a.port()); JsonRpcClient cb = JsonRpcClient.connect(b.port())) {
            for (int round = 0; round < 20; round++) {
                String name = "ryw49-" + round;
                String addr = ca.register(name, ":" + (4900 + round), null);
                String sub = "r" + round;
                List<JsonNode> snap = cb.subscribe(name, sub);
                assertEquals(List.of(addr), snap.stream().map(u -> u.path("Addr").asText()).toList(), "round " + round);
                cb.closeStream(sub);
                ca.unregister(name, addr);
                String sub2 = "u" + round;
                assertEquals(List.of(), cb.subscribe(name, sub2), "round " + round + " after Unregister");
                cb.closeStream(sub2);
            }
        }
    }

    @Test
    @DisplayName("#47 heartbeats through B for an instance registered through A: online past several TTLs, same Created, no items")
    void heartbeatsThroughOtherDaemon() throws Exception {
        String name = "hb47";
        try (JsonRpcClient ca = JsonRpcClient.connect(a.port()); JsonRpcClient cb = JsonRpcClient.connect(b.port())) {
            ca.register(name, ":4701", null);
            List<JsonNode> snap = ca.subscribe(name, "w");
            long created = snap.get(0).path("Created").asLong();
            long end = System.nanoTime() + Duration.ofSeconds(7).toNanos(); // more than two 3 s TTLs
            while (System.nanoTime() < end) {
                Thread.sleep(1000); // the heartbeat period is the scenario
                cb.register(name, ":4701", null);
            }
            List<Msg> items = ca.takeAllWithin(m -> m.hasId(JsonRpcClient.MAPPER.valueToTree("w")), Duration.ofMillis(300));
            assertEquals(List.of(), items.stream().map(Msg::raw).toList(), "the instance went offline or changed");
            List<JsonNode> again = cb.subscribe(name, "again");
            assertEquals(1, again.size());
            assertEquals(created, again.get(0).path("Created").asLong());
        }
    }
}
