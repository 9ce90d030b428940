package io.discoverd.it.client;

import static io.discoverd.it.client.ClientScenariosTest.addrs;
import static io.discoverd.it.client.ClientScenariosTest.at;
import static io.discoverd.it.client.ClientScenariosTest.awaitTrue;
import static io.discoverd.it.client.ClientScenariosTest.onlineAt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.client.ConnectionState;
import io.discoverd.client.DiscoverdClient;
import io.discoverd.client.DiscoverdException;
import io.discoverd.client.ServiceInstance;
import io.discoverd.client.ServiceSet;
import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.EachBackend;
import io.discoverd.it.RestartableDaemon;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.TestStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

/**
 * PROTOCOL.md §9.6 with this client's reconciliation (issue 5): client A on daemon A, client B on
 * daemon B, both daemons on one store (2 s registration TTL, clients heartbeating every 500 ms).
 * Daemon B is killed, A changes both services meanwhile, daemon B comes back on the same port; B's
 * sets report exactly what changed (nothing for unchanged instances, so service 2's {@code :2222}
 * is not reported at all), its connection-state stream says disconnected then connected, and its
 * own registration's heartbeats resume.
 */
@EachBackend
class ReconnectAcrossDaemonsTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    private static final String TTL_YAML = "registrationTtl: " + ClientScenariosTest.TTL.toSeconds() + "s";

    @TempDir
    static Path tmp;
    private static TestStore store;
    private static DaemonProcess daemonA;
    private static RestartableDaemon daemonB;

    @BeforeParameterizedClassInvocation
    static void start(Backend backend) throws Exception {
        Path dir = tmp.resolve(backend.configName());
        store = backend.startStore();
        daemonA = StoreAndDaemon.startDaemon(store, dir.resolve("a"), TTL_YAML);
        daemonB = RestartableDaemon.start(store, dir.resolve("b"), TTL_YAML);
    }

    @AfterParameterizedClassInvocation
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {daemonB, daemonA, store}) {
            if (c != null) {
                c.close();
            }
        }
    }

    /** An event as a comparable value: online or offline, address, attributes. */
    private static String describe(ServiceInstance e) {
        return (e.online() ? "online " : "offline ") + e.addr() + " " + e.attrs();
    }

    private static Set<String> describe(List<ServiceInstance> events) {
        return events.stream().map(ReconnectAcrossDaemonsTest::describe).collect(Collectors.toSet());
    }

    private static Map<String, Map<String, String>> content(ServiceSet set) {
        return set.services().stream().collect(Collectors.toMap(ServiceInstance::addr, ServiceInstance::attrs));
    }

    @Test
    @DisplayName("§9.6 reconnect across two daemons: B's calls fail while its daemon is down; back on the same port, B's sets report exactly "
            + "service 1 online :1111 foo=bar, offline :2222 and service 2 online :3333, offline :1111 (unchanged :2222 not at all), then live updates; "
            + "after a TTL both stay as expected; connection states connected, disconnected, connected; B's own heartbeats resume")
    void reconnectAcrossTwoDaemons() throws Exception {
        String s1 = "serviceReconnect-1";
        String s2 = "serviceReconnect-2";
        String own = "serviceReconnect-own";
        Recorder<ConnectionState> states = new Recorder<>("client B connection states");
        try (DiscoverdClient a = ClientScenariosTest.connect(daemonA);
             DiscoverdClient b = DiscoverdClient.builder().address(daemonB.address()).heartbeatInterval(ClientScenariosTest.HEARTBEAT)
                     .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(300)).build()) {
            b.watchConnectionState(states);
            assertEquals(ConnectionState.CONNECTED, states.next());
            for (String s : List.of(s1, s2)) {
                a.register(s, ":1111");
                a.register(s, ":2222");
            }
            b.register(own, ":5555");
            ServiceSet b1 = b.serviceSet(s1);
            ServiceSet b2 = b.serviceSet(s2);
            assertEquals(List.of(at(1111), at(2222)), b1.addrs());
            assertEquals(List.of(at(1111), at(2222)), b2.addrs());
            long s1At1111 = b1.services().get(0).created();
            long s2At2222 = b2.services().get(1).created();
            Recorder<ServiceInstance> e1 = new Recorder<>("B's set of " + s1);
            Recorder<ServiceInstance> e2 = new Recorder<>("B's set of " + s2);
            b1.watch(false, e1);
            b2.watch(false, e2);

            daemonB.stop(true);
            assertEquals(ConnectionState.DISCONNECTED, states.next());
            DiscoverdException down = assertThrows(DiscoverdException.class, () -> b.register(s1, ":9999"));
            assertEquals(DiscoverdException.Kind.DISCONNECTED, down.kind(), down::toString);
            assertEquals(DiscoverdException.Kind.DISCONNECTED, assertThrows(DiscoverdException.class, () -> b.services(s1)).kind());
            assertEquals(List.of(at(1111), at(2222)), b1.addrs(), "a set keeps its content while disconnected");

            a.register(s1, ":1111", Map.of("foo", "bar"));
            a.unregister(s1, ":2222");
            a.unregister(s2, ":1111");
            a.register(s2, ":3333");
            daemonB.startAgain();
            assertEquals(ConnectionState.CONNECTED, states.next(Duration.ofSeconds(30)));

            awaitTrue("B's set of " + s1 + " reconciled", () -> content(b1).equals(Map.of(at(1111), Map.of("foo", "bar"))));
            a.register(s1, ":3333"); // live, and the fence for service 1
            assertEquals(Set.of("online " + at(1111) + " {foo=bar}", "offline " + at(2222) + " {}"),
                    describe(e1.until(e -> onlineAt(e, at(3333)))), "service 1 events after the reconnect");
            assertEquals(2, e1.all().size() - 1, () -> "exactly two reconciled events for service 1: " + e1.all());

            awaitTrue("B's set of " + s2 + " reconciled", () -> content(b2).keySet().equals(Set.of(at(2222), at(3333))));
            a.register(s2, ":4444"); // the fence for service 2, gone again below
            List<ServiceInstance> reconciled2 = e2.until(e -> onlineAt(e, at(4444)));
            assertEquals(Set.of("online " + at(3333) + " {}", "offline " + at(1111) + " {}"), describe(reconciled2),
                    "service 2 events after the reconnect: nothing for the unchanged :2222");
            assertEquals(2, reconciled2.size(), reconciled2::toString);
            a.unregister(s2, ":4444");
            ServiceInstance fenceGone = e2.next();
            assertEquals("offline " + at(4444) + " {}", describe(fenceGone));

            Thread.sleep(ClientScenariosTest.TTL.plusSeconds(1).toMillis()); // on purpose: more than a TTL of heartbeats through A only
            assertTrue(e1.isDrained() && e2.isDrained(), () -> "nothing may expire: " + e1.all() + " " + e2.all());
            assertEquals(Map.of(at(1111), Map.of("foo", "bar"), at(3333), Map.of()), content(b1));
            assertEquals(Map.of(at(2222), Map.of(), at(3333), Map.of()), content(b2));
            for (DiscoverdClient c : List.of(a, b)) {
                List<ServiceInstance> one = c.services(s1);
                assertEquals(List.of(at(1111), at(3333)), addrs(one));
                assertEquals(s1At1111, one.get(0).created(), "an attribute change keeps Created");
                assertEquals("127.0.0.1", one.get(0).host());
                assertEquals("1111", one.get(0).port());
                assertEquals("3333", one.get(1).port());
                List<ServiceInstance> two = c.services(s2);
                assertEquals(List.of(at(2222), at(3333)), addrs(two));
                assertEquals(s2At2222, two.get(0).created());
                assertEquals("127.0.0.1", two.get(1).host());
                assertEquals("2222", two.get(0).port());
            }
            assertEquals(List.of(at(5555)), addrs(a.services(own)), "B's heartbeats resumed after the reconnect and kept its instance online");
            assertEquals(List.of(ConnectionState.CONNECTED, ConnectionState.DISCONNECTED, ConnectionState.CONNECTED), states.all());
            b.unregisterAll();
            a.unregisterAll();
        }
        assertEquals(ConnectionState.CLOSED, states.next());
    }
}
