package io.discoverd.it.outage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.discoverd.it.Backend;
import io.discoverd.it.OnlyOn;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.http.RawConnection;
import io.discoverd.it.json.JsonRpcClient.Msg;
import io.discoverd.it.json.JsonRpcClient;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The etcd server goes away under a running daemon and comes back (PROTOCOL.md §5.5.4, checklist
 * #44; ARCHITECTURE.md "Liveness", store unreachable). Unlike ZooKeeper ({@link ZooKeeperOutageTest}),
 * a heartbeat on etcd is a lease keep-alive, so it fails fast like every other call; etcd expires no
 * lease while it is down, and the open subscriptions resume when it is back. Owns its store, because
 * it stops it.
 *
 * <p>TTL 10 s (the default): after etcd's return the daemon has one TTL to let heartbeats through
 * again before the heartbeating instance would expire.
 */
@OnlyOn(Backend.ETCD)
class EtcdOutageTest {

    private static final String PREFIX = "discoverd: store unavailable: ";
    private static final Duration TTL = Duration.ofSeconds(10);
    /** The longest a call may take while etcd is known to be down. */
    private static final Duration FAST = Duration.ofSeconds(1);
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;
    static StoreAndDaemon env;

    @BeforeAll
    static void start() throws Exception {
        env = StoreAndDaemon.start(Backend.ETCD, dir, "registrationTtl: " + TTL.toSeconds() + "s");
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @Test
    @DisplayName("#44 etcd outage under an open stream: Register, heartbeat and Unregister fail fast with 'discoverd: store unavailable: "
            + "<endpoint>', a new Subscribe gets the sentinel then that error, the daemon keeps serving (validation errors, /health 503), "
            + "the stream stays open and silent; once etcd is back calls succeed, the heartbeating instance kept its Created, and the "
            + "stream converges without resubscribing")
    void etcdOutage_callsFailFast_streamStaysOpen_andConvergesWhenEtcdReturns() throws Exception {
        String name = "outage";
        JsonNode watch = JsonRpcClient.MAPPER.valueToTree("watch");
        // the endpoint as the daemon's config names it, without the scheme: 127.0.0.1:<port>
        String endpoint = URI.create(env.store().address()).getAuthority();
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            Supplier<String> why = () -> "\n--- inbox\n" + String.join("\n", c.rawInbox()) + "\n--- daemon\n" + env.daemon().output();
            assertEquals("127.0.0.1:7001", c.register(name, ":7001", null));
            // :7003 gets no heartbeats: it must expire after etcd's return, through the resumed watch
            assertEquals("127.0.0.1:7003", c.register(name, ":7003", null));
            Map<String, Long> before = byAddr(c.subscribe(name, "watch"));
            assertEquals(List.of("127.0.0.1:7001", "127.0.0.1:7003"), List.copyOf(before.keySet()));
            long created = before.get("127.0.0.1:7001");
            assertEquals(200, health().status(), why);

            env.store().stop();

            // Register: refused once the daemon knows, and then at once, naming the endpoint.
            Msg refused = awaitRefusal(c, name, ":7002", watch);
            assertTrue(refused.error().startsWith(PREFIX) && refused.error().contains(endpoint),
                    () -> "not '" + PREFIX + "...' naming " + endpoint + ": " + refused.raw() + why.get());
            // A heartbeat is a lease keep-alive: it fails fast too, with the same text.
            Msg heartbeat = timedCall(c, "Agent.Register", JsonRpcClient.args(name, ":7001", null));
            assertNotNull(heartbeat.error(), () -> heartbeat.raw() + why.get());
            assertTrue(heartbeat.error().startsWith(PREFIX) && heartbeat.error().contains(endpoint), () -> heartbeat.raw() + why.get());
            Msg unregister = timedCall(c, "Agent.Unregister", JsonRpcClient.args(name, ":7001", null));
            assertNotNull(unregister.error(), () -> unregister.raw() + why.get());
            assertTrue(unregister.error().startsWith(PREFIX) && unregister.error().contains(endpoint), () -> unregister.raw() + why.get());

            // A new Subscribe is never left hanging (§5.5.4): the sentinel, then a final frame with the same error.
            c.send("Agent.Subscribe", JsonRpcClient.args(name, null, null), "late");
            Msg first = c.takeId("late");
            assertTrue(first.isSentinel(), () -> first.raw() + why.get());
            Msg last = c.takeId("late");
            assertTrue(last.error() != null && last.error().startsWith(PREFIX) && last.error().contains(endpoint),
                    () -> last.raw() + why.get());

            // The daemon keeps serving: calls that need no store are answered as usual, on this
            // connection and on a new one, and /health reports the store down.
            Msg invalid = timedCall(c, "Agent.Unregister", JsonRpcClient.args(name, "", null));
            assertEquals("discoverd: Addr must be set", invalid.error(), invalid.raw());
            try (JsonRpcClient fresh = JsonRpcClient.connect(env.port())) {
                Msg m = fresh.call("Agent.Unregister", JsonRpcClient.args(name, "", null));
                assertEquals("discoverd: Addr must be set", m.error(), m.raw());
            }
            RawConnection.HttpAnswer down = awaitHealth(503);
            assertEquals(503, down.status(), () -> down.statusLine() + "\n" + down.bodyText() + why.get());

            // The open stream stays open and says nothing while the store is away (no error frame, no EOS).
            List<Msg> duringOutage = c.takeAllWithin(m -> m.hasId(watch), Duration.ofSeconds(2));
            assertEquals(List.of(), duringOutage.stream().map(Msg::raw).toList(), why);
            assertFalse(c.isClosed(), why);

            env.store().restart();
            long back = System.nanoTime();

            // Calls succeed again once the daemon has reconnected.
            Msg again = Outages.awaitAccepted(c, name, ":7002", WAIT);
            long reconnectedMs = (System.nanoTime() - back) / 1_000_000;
            assertNull(again.error(), () -> again.raw() + why.get());
            Msg beat = c.call("Agent.Register", JsonRpcClient.args(name, ":7001", null));
            assertNull(beat.error(), () -> beat.raw() + why.get());
            assertTrue(reconnectedMs < TTL.toMillis(), () -> "calls refused for " + reconnectedMs + " ms after etcd's return" + why.get());

            // The open stream converges without a new Subscribe: :7002 online, :7003 offline once its
            // lease runs out, and nothing about :7001, which kept its lease (no offline, no second online),
            // nor more about :7002, whose heartbeats go on.
            List<Msg> after = new ArrayList<>();
            after.add(c.take(m -> m.hasId(watch) && "127.0.0.1:7002".equals(m.result().path("Addr").asText()),
                    WAIT, "live item for :7002 on the stream opened before the outage"));
            long waitingSince = System.nanoTime();
            Msg gone = null;
            while (gone == null) {
                // :7001 and :7002 keep their heartbeats (TTL / 5) while :7003 runs out
                for (String port : List.of(":7001", ":7002")) {
                    Msg hb = c.call("Agent.Register", JsonRpcClient.args(name, port, null));
                    assertNull(hb.error(), () -> hb.raw() + why.get());
                }
                List<Msg> got = c.takeAllWithin(m -> m.hasId(watch), Duration.ofSeconds(2));
                after.addAll(got);
                for (Msg m : got) {
                    if ("127.0.0.1:7003".equals(m.result().path("Addr").asText())) {
                        gone = m;
                    }
                }
                assertTrue(System.nanoTime() - waitingSince < TTL.plus(WAIT).toNanos(),
                        () -> "no offline item for :7003 on the stream" + why.get());
            }
            List<String> items = after.stream().map(Msg::raw).toList();
            assertFalse(gone.result().path("Online").asBoolean(), () -> items + why.get());
            assertEquals(2, after.size(), () -> "expected exactly online :7002 and offline :7003: " + items + why.get());
            for (Msg m : after) {
                assertNull(m.error(), () -> items + why.get());
            }
            assertTrue(after.get(0).result().path("Online").asBoolean(), () -> items + why.get());
            long created7002 = after.get(0).result().path("Created").asLong();
            assertTrue(created7002 > created, () -> items + why.get());

            // The stream's view equals a fresh subscription's; :7001 still has its Created and leads.
            Map<String, Long> fresh = byAddr(c.subscribe(name, "fresh"));
            assertEquals(Map.of("127.0.0.1:7001", created, "127.0.0.1:7002", created7002), fresh, why);
            Msg leader = c.call("Agent.Leader", JsonRpcClient.args(name, null, null));
            assertEquals("127.0.0.1:7001", leader.result().path("Addr").asText(), leader.raw());
            assertEquals(created, leader.result().path("Created").asLong(), leader.raw());
            RawConnection.HttpAnswer up = awaitHealth(200);
            assertEquals(200, up.status(), () -> up.statusLine() + "\n" + up.bodyText() + why.get());
            assertTrue(env.daemon().isAlive(), why);
        }
    }

    private static Map<String, Long> byAddr(List<JsonNode> snapshot) {
        Map<String, Long> m = new TreeMap<>();
        snapshot.forEach(u -> m.put(u.path("Addr").asText(), u.path("Created").asLong()));
        return m;
    }

    /** A call whose answer must come within {@link #FAST}. */
    private static Msg timedCall(JsonRpcClient c, String method, JsonNode args) throws Exception {
        long sent = System.nanoTime();
        Msg m = c.call(method, args);
        long ms = (System.nanoTime() - sent) / 1_000_000;
        assertTrue(ms < FAST.toMillis(), () -> method + " answered only after " + ms + " ms: " + m.raw());
        return m;
    }

    /**
     * Registers until the daemon has noticed the outage and refuses (a call in flight when etcd
     * went away may take the client's request timeout), then checks that a call made once the
     * outage is known is refused within {@link #FAST}. The items of a registration accepted and
     * undone meanwhile are taken off the stream {@code watch}.
     */
    private static Msg awaitRefusal(JsonRpcClient c, String name, String addr, JsonNode watch) throws Exception {
        Outages.awaitFirstRefusal(c, name, addr, WAIT, accepted -> {
            for (boolean online : new boolean[] {true, false}) {
                c.take(i -> i.hasId(watch) && i.result().path("Addr").asText().equals(accepted)
                        && i.result().path("Online").asBoolean() == online, WAIT, "item of the undone registration");
            }
        });
        Msg known = timedCall(c, "Agent.Register", JsonRpcClient.args(name, addr, null));
        assertNotNull(known.error(), known.raw());
        return known;
    }

    private static RawConnection.HttpAnswer health() throws Exception {
        try (RawConnection c = RawConnection.open(env.port())) {
            c.write("GET /health HTTP/1.0\r\n\r\n");
            return c.readHttpAnswer(Duration.ofSeconds(10));
        }
    }

    /** Polls {@code /health} until it answers the status (or {@link #WAIT} has passed); returns the last answer. */
    private static RawConnection.HttpAnswer awaitHealth(int status) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        RawConnection.HttpAnswer a = health();
        while (a.status() != status && System.nanoTime() < deadline) {
            Thread.sleep(200); // polling interval while the daemon notices the store's state
            a = health();
        }
        return a;
    }
}
