package io.discoverd.client;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client against {@link FakeDaemon}: PROTOCOL.md §9 behaviour, heartbeats, reconnect, listener threading. */
@Timeout(30)
class DiscoverdClientTest extends FakeDaemonTestBase {

    private DiscoverdClient connect() throws DiscoverdException {
        return connect(Duration.ofSeconds(3));
    }

    private static void assertOffline(ServiceInstance update, String addr) {
        assertEquals(addr, update.addr());
        assertFalse(update.online());
    }

    private static Set<String> addrs(List<ServiceInstance> l) {
        Set<String> s = new HashSet<>();
        l.forEach(i -> s.add(i.addr()));
        return s;
    }

    @Test
    void registerAndList_offlineUpdate_closeStream() throws Exception {
        client = connect();
        assertEquals("127.0.0.1:1111", client.register("basicTest", ":1111", Map.of("foo", "bar")));
        assertEquals("127.0.0.1:2222", client.register("basicTest", ":2222"));
        ServiceSet set = client.serviceSet("basicTest");
        assertEquals(List.of("127.0.0.1:1111", "127.0.0.1:2222"), set.addrs());
        Events<ServiceInstance> ev = new Events<>();
        set.watch(false, ev);
        client.unregister("basicTest", ":2222");
        assertOffline(ev.next(), "127.0.0.1:2222");
        ev.none(200);
        ServiceInstance left = set.services().get(0);
        assertEquals(Map.of("foo", "bar"), left.attrs());
        assertEquals("127.0.0.1", left.host());
        assertEquals("1111", left.port());
        set.close();
        waitFor(() -> daemon.activeSubscriptions() == 0);
    }

    @Test
    void attributeChange_oneUpdate_sameCreated() throws Exception {
        client = connect();
        ServiceSet set = client.serviceSet("attrs");
        assertTrue(set.services().isEmpty());
        Events<ServiceInstance> ev = new Events<>();
        set.watch(false, ev);
        client.register("attrs", ":1111", Map.of("foo", "bar"));
        ServiceInstance first = ev.next();
        client.register("attrs", ":1111", Map.of("foo", "baz"));
        ServiceInstance second = ev.next();
        assertTrue(second.online());
        assertEquals(first.created(), second.created());
        assertEquals("baz", set.services().get(0).attrs().get("foo"));
        ev.none(300); // heartbeats (every 200 ms) carry the new attrs: no flip-flop
        assertEquals(Map.of("foo", "baz"), daemon.instances("attrs").get("127.0.0.1:1111").attrs());
    }

    @Test
    void filterAndSelect_filteredViewStillSeesOffline() throws Exception {
        client = connect();
        client.register("f", ":1111");
        client.register("f", ":2222", Map.of("foo", "qux", "id", "2"));
        client.register("f", ":3333", Map.of("foo", "qux", "id", "3"));
        client.register("f", ":4444", Map.of("foo", "baz"));
        ServiceSet set = client.serviceSet("f");
        assertEquals(List.of("127.0.0.1:3333"), set.select(Map.of("id", "3")).stream().map(ServiceInstance::addr).toList());
        ServiceSet qux = set.filter(Map.of("foo", "qux"));
        assertEquals(List.of("127.0.0.1:2222", "127.0.0.1:3333"), qux.addrs());
        assertEquals("127.0.0.1:2222", qux.leader().orElseThrow().addr());
        assertEquals("127.0.0.1:1111", set.leader().orElseThrow().addr());
        Events<ServiceInstance> ev = new Events<>();
        qux.watch(false, ev);
        client.unregister("f", ":2222");
        assertOffline(ev.next(), "127.0.0.1:2222");
        client.register("f", ":3333", Map.of("foo", "other", "id", "3")); // leaves the view
        assertOffline(ev.next(), "127.0.0.1:3333");
        client.unregister("f", ":4444"); // never in the view
        ev.none(200);
        assertTrue(qux.services().isEmpty());
        qux.close();
        assertEquals(2, set.services().size()); // closing a view keeps the set
    }

    @Test
    void watchBringsCurrentThenLive() throws Exception {
        client = connect();
        client.register("watchTest", ":1111");
        client.register("watchTest", ":2222");
        ServiceSet set = client.serviceSet("watchTest");
        Events<ServiceInstance> ev = new Events<>();
        set.watch(true, ev);
        client.register("watchTest", ":3333");
        assertEquals(List.of("127.0.0.1:1111", "127.0.0.1:2222", "127.0.0.1:3333"),
                ev.next(3).stream().map(ServiceInstance::addr).toList());
    }

    @Test
    void oneShotListing_readYourWrites_unregisterAll() throws Exception {
        client = connect();
        client.register("list", ":1111");
        client.register("list", ":2222");
        client.register("list", ":3333");
        assertEquals(3, client.services("list").size());
        assertEquals(List.of(), client.services("never-used"));
        client.unregisterAll();
        assertEquals(List.of(), client.services("list"));
        waitFor(() -> daemon.activeSubscriptions() == 0);
        int before = daemon.registerTimes("list", "127.0.0.1:1111").size();
        Thread.sleep(500);
        assertEquals(before, daemon.registerTimes("list", "127.0.0.1:1111").size(), "heartbeat after unregister");
    }

    @Test
    void leaderChanges() throws Exception {
        client = connect();
        client.register("leader", ":1111");
        ServiceSet set = client.serviceSet("leader");
        Events<Optional<ServiceInstance>> leaders = new Events<>();
        set.watchLeader(leaders);
        assertEquals("127.0.0.1:1111", leaders.next().orElseThrow().addr());
        client.unregister("leader", ":1111");
        assertTrue(leaders.next().isEmpty());
        client.register("leader", ":2222");
        assertEquals("127.0.0.1:2222", leaders.next().orElseThrow().addr());
        client.register("leader", ":3333");
        leaders.none(200);
        client.unregister("leader", ":2222");
        assertEquals("127.0.0.1:3333", leaders.next().orElseThrow().addr());
    }

    @Test
    void registerWithSet_selfExcluded_leaderIsSelf() throws Exception {
        client = connect();
        client.register("self", ":1111");
        ServiceSet set = client.registerWithSet("self", ":2222", null);
        assertEquals(Optional.of("127.0.0.1:2222"), set.selfAddr());
        assertEquals(List.of("127.0.0.1:1111"), set.addrs());
        assertEquals(2, client.services("self").size());
        Events<Optional<ServiceInstance>> leaders = new Events<>();
        set.watchLeader(leaders);
        assertEquals("127.0.0.1:1111", leaders.next().orElseThrow().addr());
        client.register("self", ":3333");
        client.unregister("self", ":1111");
        assertEquals("127.0.0.1:2222", leaders.next().orElseThrow().addr());
        assertEquals(List.of("127.0.0.1:3333"), set.addrs());
    }

    @Test
    void standbyCompletesWhenLeader() throws Exception {
        client = connect();
        client.register("standby", ":1111");
        CompletableFuture<ServiceInstance> standby = client.registerAndStandby("standby", ":2222", null);
        client.register("standby", ":3333");
        client.unregister("standby", ":3333");
        Thread.sleep(100);
        assertFalse(standby.isDone());
        client.unregister("standby", ":1111");
        assertEquals("127.0.0.1:2222", standby.get(5, TimeUnit.SECONDS).addr());
        waitFor(() -> daemon.activeSubscriptions() == 0); // its set was closed
        assertEquals(1, daemon.instances("standby").size()); // still registered
    }

    @Test
    void heartbeatsEveryIntervalWithJitter() throws Exception {
        client = connect();
        client.register("hb", ":1111");
        Thread.sleep(1100);
        List<Long> t = daemon.registerTimes("hb", "127.0.0.1:1111");
        // 200 ms interval, up to 10 % earlier: 5 or 6 beats after the Register; slack for a loaded machine.
        assertTrue(t.size() >= 4 && t.size() <= 7, "registers: " + t.size());
        for (int i = 1; i < t.size(); i++) {
            long gap = TimeUnit.NANOSECONDS.toMillis(t.get(i) - t.get(i - 1));
            assertTrue(gap >= 175 && gap <= 400, "gap " + gap + " ms");
        }
    }

    @Test
    void defaultHeartbeatIsFiveSeconds() throws Exception {
        client = DiscoverdClient.builder().address("tcp://" + daemon.address()).build();
        client.register("hb5", ":1111");
        Thread.sleep(300);
        assertEquals(1, daemon.registerTimes("hb5", "127.0.0.1:1111").size());
    }

    @Test
    void serverErrorsCarryTheDaemonText() throws Exception {
        client = connect();
        DiscoverdException e = assertThrows(DiscoverdException.class, () -> client.register("x", ""));
        assertEquals(DiscoverdException.Kind.SERVER_ERROR, e.kind());
        assertEquals("discoverd: Addr must be set", e.serverMessage());
        assertFalse(e.isNotFound());
        e = assertThrows(DiscoverdException.class, () -> client.unregister("x", "10.9.9.9:1"));
        assertTrue(e.serverMessage().startsWith("100: Key not found ("));
        assertTrue(e.isNotFound());
        assertEquals(ConnectionState.CONNECTED, client.state());
    }

    @Test
    void connectFailsFastWhenNoDaemon() throws Exception {
        // A port bound but not listening: nobody else (another test's daemon) can take it meanwhile.
        try (java.net.Socket reserved = new java.net.Socket()) {
            reserved.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
            long t0 = System.nanoTime();
            DiscoverdException e = assertThrows(DiscoverdException.class,
                    () -> DiscoverdClient.connect("127.0.0.1:" + reserved.getLocalPort()));
            assertEquals(DiscoverdException.Kind.DISCONNECTED, e.kind());
            assertTrue(e.getMessage().startsWith("discoverd: cannot connect to 127.0.0.1:"), e.getMessage());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2));
        }
    }

    @Test
    void initialConnectWaitRetries() throws Exception {
        daemon.stop();
        Thread restarter = new Thread(() -> {
            try {
                Thread.sleep(300);
                daemon.start();
            } catch (Exception ignored) {
                // test fails below
            }
        });
        restarter.start();
        client = DiscoverdClient.builder().address(daemon.address()).initialConnectWait(Duration.ofSeconds(5))
                .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(100)).build();
        assertEquals(ConnectionState.CONNECTED, client.state());
    }

    @Test
    void defaultAddressFromEnvironment() throws Exception {
        client = DiscoverdClient.builder().environment(Map.of("DISCOVERD", "tcp://" + daemon.address())).build();
        assertEquals(daemon.address(), client.daemonAddress());
        client.register("env", ":1");
    }

    @Test
    void reconnect_resubscribeAndReconcile_heartbeatsResume() throws Exception {
        client = connect();
        client.register("mine", ":7777");
        daemon.putDirect("s1", "127.0.0.1:1111", null);
        daemon.putDirect("s1", "127.0.0.1:2222", null);
        daemon.putDirect("s1", "127.0.0.1:4444", null);
        daemon.putDirect("s2", "127.0.0.1:1111", null);
        daemon.putDirect("s2", "127.0.0.1:2222", null);
        ServiceSet s1 = client.serviceSet("s1");
        ServiceSet s2 = client.serviceSet("s2");
        long created4444 = s1.services().get(2).created();
        Events<ConnectionState> states = new Events<>();
        client.watchConnectionState(states);
        assertEquals(ConnectionState.CONNECTED, states.next());
        Events<ServiceInstance> e1 = new Events<>();
        Events<ServiceInstance> e2 = new Events<>();
        s1.watch(false, e1);
        s2.watch(false, e2);

        daemon.stop();
        assertEquals(ConnectionState.DISCONNECTED, states.next());
        DiscoverdException e = assertThrows(DiscoverdException.class, () -> client.register("s1", ":9999"));
        assertEquals(DiscoverdException.Kind.DISCONNECTED, e.kind());
        assertTrue(e.getMessage().contains("disconnected"), e.getMessage());
        assertEquals(3, s1.services().size()); // last known content kept
        int beatsBefore = daemon.registerTimes("mine", "127.0.0.1:7777").size();

        // Changes made meanwhile through "another daemon" (PROTOCOL.md §9.6).
        daemon.putDirect("s1", "127.0.0.1:1111", Map.of("foo", "bar")); // attrs changed
        daemon.removeDirect("s1", "127.0.0.1:2222");                       // vanished
        daemon.removeDirect("s1", "127.0.0.1:4444");                       // re-created: new Created
        daemon.putDirect("s1", "127.0.0.1:4444", null);
        daemon.removeDirect("s2", "127.0.0.1:1111");                       // vanished
        daemon.putDirect("s2", "127.0.0.1:3333", null);                    // new; :2222 unchanged
        Thread.sleep(200);
        assertEquals(beatsBefore, daemon.registerTimes("mine", "127.0.0.1:7777").size());
        daemon.start();
        assertEquals(ConnectionState.CONNECTED, states.next());

        assertEquals(Set.of("127.0.0.1:2222 offline", "127.0.0.1:1111 online {foo=bar}", "127.0.0.1:4444 online {}"),
                describe(e1.next(3)));
        assertEquals(Set.of("127.0.0.1:1111 offline", "127.0.0.1:3333 online {}"), describe(e2.next(2)));
        e1.none(200);
        e2.none(0); // nothing for unchanged instances
        assertEquals(List.of("127.0.0.1:1111", "127.0.0.1:4444"), s1.addrs());
        assertTrue(Long.compareUnsigned(s1.services().get(1).created(), created4444) > 0);
        assertEquals(List.of("127.0.0.1:2222", "127.0.0.1:3333"), s2.addrs());
        assertEquals("127.0.0.1", s2.services().get(1).host());
        assertEquals("3333", s2.services().get(1).port());

        // heartbeats resumed at once and then periodically; live updates flow again
        waitFor(() -> daemon.registerTimes("mine", "127.0.0.1:7777").size() >= beatsBefore + 3);
        daemon.putDirect("s2", "127.0.0.1:4444", null);
        assertEquals("127.0.0.1:4444", e2.next().addr());
        assertEquals(4, daemon.subscribeCount(), "one resubscribe per set");
    }

    private static Set<String> describe(List<ServiceInstance> events) {
        Set<String> out = new HashSet<>();
        for (ServiceInstance i : events) {
            out.add(i.addr() + (i.online() ? " online " + i.attrs() : " offline"));
        }
        return out;
    }

    @Test
    void serverInitiatedDisconnect_reconnectsQuickly() throws Exception {
        client = connect();
        client.register("drop", ":1111");
        ServiceSet set = client.serviceSet("drop");
        daemon.dropConnections();
        waitFor(() -> daemon.activeSubscriptions() == 1 && client.state() == ConnectionState.CONNECTED);
        client.register("drop", ":2222");
        waitFor(() -> set.addrs().size() == 2);
    }

    @Test
    void slowListenerDoesNotStallTheConnection() throws Exception {
        client = connect();
        ServiceSet set = client.serviceSet("slow");
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        set.watch(false, i -> {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Events<ServiceInstance> fast = new Events<>();
        set.watch(false, fast);
        client.register("slow", ":1");
        assertTrue(entered.await(5, TimeUnit.SECONDS));
        for (int p = 2; p <= 50; p++) {
            client.register("slow", ":" + p); // replies come through the same read loop
        }
        assertEquals(50, fast.next(50).size());
        assertEquals(50, set.services().size());
        release.countDown();
    }

    @Test
    void listenerFallingTooFarBehindIsCancelled() throws Exception {
        client = DiscoverdClient.builder().address(daemon.address()).listenerQueueCapacity(3).build();
        ServiceSet set = client.serviceSet("overflow");
        CountDownLatch release = new CountDownLatch(1);
        ListenerHandle h = set.watch(false, i -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        for (int p = 1; p <= 10; p++) {
            client.register("overflow", ":" + p);
        }
        waitFor(() -> !h.isActive());
        release.countDown();
        Events<Optional<ServiceInstance>> leader = new Events<>();
        set.watchLeader(leader);
        assertEquals("127.0.0.1:1", leader.next().orElseThrow().addr());
    }

    @Test
    void resolverDialsThroughDiscovery() throws Exception {
        client = connect();
        try (ServiceResolver r = new ServiceResolver(client, ServiceResolver.Strategy.ROUND_ROBIN)) {
            DiscoverdException e = assertThrows(DiscoverdException.class, () -> r.resolve(java.net.URI.create("http://httpTest/x")));
            assertEquals(DiscoverdException.Kind.NO_INSTANCES, e.kind());
            client.register("httpTest", "127.0.0.1:8081");
            client.register("httpTest", "127.0.0.1:8082");
            waitFor(() -> {
                try {
                    return r.pick("httpTest") != null;
                } catch (DiscoverdException x) {
                    return false;
                }
            });
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                seen.add(r.resolve(java.net.URI.create("http://httpTest/path?q=1")).toString());
            }
            assertEquals(Set.of("http://127.0.0.1:8081/path?q=1", "http://127.0.0.1:8082/path?q=1"), seen);
        }
        waitFor(() -> daemon.activeSubscriptions() == 0);
    }

    @Test
    void streamEndedByTheDaemon_resubscribesAndReconciles() throws Exception {
        client = connect();
        client.register("fail", ":1111");
        ServiceSet set = client.serviceSet("fail");
        Events<ServiceInstance> ev = new Events<>();
        set.watch(false, ev);
        daemon.failStreams("fail", "discoverd: store watch lost");
        daemon.putDirect("fail", "127.0.0.1:2222", null); // while no stream is open
        ServiceInstance i = ev.next();
        assertEquals("127.0.0.1:2222", i.addr());
        assertTrue(i.online());
        ev.none(200); // :1111 unchanged: not reported again
        assertEquals(2, daemon.subscribeCount());
        assertEquals(ConnectionState.CONNECTED, client.state());
    }

    @Test
    void concurrentCallsAndSets() throws Exception {
        client = connect();
        ServiceSet set = client.serviceSet("many");
        Events<ServiceInstance> ev = new Events<>();
        set.watch(false, ev);
        List<Thread> threads = new java.util.ArrayList<>();
        java.util.concurrent.ConcurrentLinkedQueue<Throwable> errors = new java.util.concurrent.ConcurrentLinkedQueue<>();
        for (int t = 0; t < 8; t++) {
            int base = 1000 * (t + 1);
            Thread th = new Thread(() -> {
                try {
                    for (int p = 0; p < 25; p++) {
                        client.register("many", ":" + (base + p));
                        if (p % 5 == 0) {
                            client.services("many");
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        assertTrue(errors.isEmpty(), errors.toString());
        assertEquals(200, ev.next(200).size());
        assertEquals(200, set.services().size());
        assertEquals(200, client.services("many").size());
    }

    @Test
    void closeStopsEverything() throws Exception {
        client = connect();
        client.register("close", ":1111");
        ServiceSet set = client.serviceSet("close");
        Events<ConnectionState> states = new Events<>();
        client.watchConnectionState(states);
        assertEquals(ConnectionState.CONNECTED, states.next());
        client.close();
        assertEquals(ConnectionState.CLOSED, states.next());
        assertEquals(ConnectionState.CLOSED, client.state());
        DiscoverdException e = assertThrows(DiscoverdException.class, () -> client.register("close", ":2"));
        assertEquals(DiscoverdException.Kind.CLOSED, e.kind());
        int beats = daemon.registerTimes("close", "127.0.0.1:1111").size();
        Thread.sleep(400);
        assertEquals(beats, daemon.registerTimes("close", "127.0.0.1:1111").size());
        assertEquals(1, daemon.instances("close").size()); // close does not unregister
        set.close(); // harmless
    }

    static void waitFor(java.util.function.BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 5 s");
            }
            Thread.sleep(10);
        }
    }
}
