package io.discoverd.client;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static io.discoverd.client.DiscoverdClientTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client against a {@link FakeDaemon} that misbehaves without closing TCP: stops answering,
 * stops reading, answers slowly, keeps ending streams, refuses a change.
 */
@Timeout(30)
class DaemonFailureTest extends FakeDaemonTestBase {

    @Test
    void silentlyDeadDaemon_unansweredHeartbeat_dropsTheConnection_andReconnects() throws Exception {
        client = connect(Duration.ofMillis(500));
        client.register("silent", ":1111");
        ServiceSet set = client.serviceSet("silent");
        Events<ConnectionState> states = new Events<>();
        client.watchConnectionState(states);
        assertEquals(ConnectionState.CONNECTED, states.next());
        Connection first = client.currentConnection().orElseThrow();

        daemon.freezeConnections(); // socket open, nothing answered
        assertEquals(ConnectionState.DISCONNECTED, states.next());
        assertTrue(first.isClosed());
        assertEquals(ConnectionState.CONNECTED, states.next());
        assertFalse(client.currentConnection().orElseThrow().isClosed());
        daemon.putDirect("silent", "127.0.0.1:2222", null);
        waitFor(() -> set.addrs().size() == 2); // resubscribed on the new connection
    }

    @Test
    void unansweredCall_timesOut_andDropsTheConnection() throws Exception {
        client = connect(Duration.ofMillis(500));
        Connection first = client.currentConnection().orElseThrow();
        daemon.freezeConnections();
        DiscoverdException e = assertThrows(DiscoverdException.class, () -> client.register("silent", ":1111"));
        assertEquals(DiscoverdException.Kind.TIMEOUT, e.kind());
        assertTrue(first.isClosed());
        waitFor(() -> client.state() == ConnectionState.CONNECTED && client.currentConnection().isPresent()
                && client.currentConnection().get() != first);
        assertEquals("127.0.0.1:1111", client.register("silent", ":1111"));
    }

    /**
     * Fills the socket: the daemon reads nothing, 40 threads send a Register of 900 kB each at once
     * (below the FakeDaemon's 1 MiB message limit), far more than the socket buffers hold.
     */
    private void floodOfLargeRegisters(String name) {
        String big = "x".repeat(900_000);
        for (int i = 0; i < 40; i++) {
            int port = 5000 + i;
            Thread t = new Thread(() -> {
                try {
                    client.register(name, ":" + port, Map.of("big", big));
                } catch (DiscoverdException e) {
                    // TIMEOUT, DISCONNECTED or CLOSED: expected once the daemon is deaf
                }
            }, "flood-" + i);
            t.setDaemon(true);
            t.start();
        }
    }

    @Test
    void deafDaemon_closeDoesNotBlock() throws Exception {
        client = connect(Duration.ofSeconds(20));
        ServiceSet set = client.serviceSet("deaf");
        daemon.deafenConnections();
        floodOfLargeRegisters("deaf");
        Thread.sleep(500); // the send buffer is full by now
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> client.close());
        assertTrue(set.services().isEmpty());
    }

    @Test
    void deafDaemon_unregisterDuringABlockedHeartbeat_returnsWithinTheCallTimeout() throws Exception {
        client = connect(Duration.ofSeconds(1));
        client.register("deaf", ":1111", Map.of("big", "y".repeat(500_000)));
        daemon.deafenConnections();
        floodOfLargeRegisters("deaf");
        Thread.sleep(500); // heartbeats of :1111 now queue behind a full send buffer
        assertTimeoutPreemptively(Duration.ofSeconds(3), () -> {
            try {
                client.unregister("deaf", ":1111");
            } catch (DiscoverdException e) {
                // TIMEOUT or DISCONNECTED; the point is that it returns
                assertTrue(Set.of(DiscoverdException.Kind.TIMEOUT, DiscoverdException.Kind.DISCONNECTED).contains(e.kind()), e.toString());
            }
        });
    }

    @Test
    void resolver_slowFirstLookupOfOneName_doesNotBlockOtherNames() throws Exception {
        client = connect(Duration.ofSeconds(5));
        client.register("fast", ":1111");
        try (ServiceResolver resolver = new ServiceResolver(client)) {
            assertEquals("127.0.0.1:1111", resolver.pick("fast").addr());
            daemon.stall("slow");
            CompletableFuture<ServiceInstance> slow = CompletableFuture.supplyAsync(() -> {
                try {
                    return resolver.pick("slow");
                } catch (DiscoverdException e) {
                    throw new RuntimeException(e);
                }
            });
            waitFor(() -> daemon.subscribeCount() == 2);
            assertTimeoutPreemptively(Duration.ofMillis(500), () -> resolver.pick("fast"));
            assertFalse(slow.isDone());
            daemon.release("slow");
            ExecutionException e = assertThrows(ExecutionException.class, () -> slow.get(5, TimeUnit.SECONDS));
            assertEquals(DiscoverdException.Kind.NO_INSTANCES, ((DiscoverdException) e.getCause().getCause()).kind());
        }
    }

    @Test
    void connectedIsReportedOnlyAfterTheSetsAreReconciled() throws Exception {
        client = connect(Duration.ofSeconds(5));
        ServiceSet set = client.serviceSet("late");
        List<List<String>> seenAtConnected = new CopyOnWriteArrayList<>();
        Events<ConnectionState> states = new Events<>();
        client.watchConnectionState(s -> {
            if (s == ConnectionState.CONNECTED) {
                seenAtConnected.add(set.addrs());
            }
            states.accept(s);
        });
        assertEquals(ConnectionState.CONNECTED, states.next());
        daemon.stop();
        assertEquals(ConnectionState.DISCONNECTED, states.next());
        daemon.putDirect("late", "127.0.0.1:2222", null);
        daemon.stall("late");
        daemon.start();
        waitFor(() -> daemon.subscribeCount() == 2);
        Thread.sleep(300); // reconnected, the snapshot held back
        assertEquals(ConnectionState.DISCONNECTED, client.state());
        daemon.release("late");
        assertEquals(ConnectionState.CONNECTED, states.next());
        assertEquals(List.of("127.0.0.1:2222"), seenAtConnected.get(1));
    }

    @Test
    void streamEndedRepeatedly_resubscribesWithBackoff_warnsOncePerEpisode() throws Exception {
        List<LogRecord> warnings = new CopyOnWriteArrayList<>();
        Logger log = Logger.getLogger(DiscoverdClient.class.getName());
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue() && r.getMessage().contains("ended by the daemon")) {
                    warnings.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(h);
        try {
            client = connect(Duration.ofSeconds(5));
            ServiceSet set = client.serviceSet("flaky");
            daemon.rejectSubscribes("flaky", "discoverd: store watch lost");
            daemon.failStreams("flaky", "discoverd: store watch lost");
            waitFor(() -> daemon.subscribeCount() >= 6);
            assertEquals(1, warnings.size());
            daemon.rejectSubscribes("flaky", null);
            daemon.putDirect("flaky", "127.0.0.1:1111", null);
            waitFor(() -> set.addrs().size() == 1);
            daemon.failStreams("flaky", "discoverd: store watch lost"); // a new episode
            waitFor(() -> warnings.size() == 2);
        } finally {
            log.removeHandler(h);
        }
    }

    @Test
    void refusedReRegister_heartbeatKeepsTheAcceptedAttributes() throws Exception {
        client = connect(Duration.ofSeconds(5));
        client.register("attrs", ":1111", Map.of("v", "1"));
        DiscoverdException e = assertThrows(DiscoverdException.class,
                () -> client.register("attrs", ":1111", Map.of("v", "2", "refuse", "yes")));
        assertEquals(DiscoverdException.Kind.SERVER_ERROR, e.kind());
        int beats = daemon.registerTimes("attrs", "127.0.0.1:1111").size();
        waitFor(() -> daemon.registerTimes("attrs", "127.0.0.1:1111").size() >= beats + 2); // heartbeats still accepted
        assertEquals(Map.of("v", "1"), daemon.instances("attrs").get("127.0.0.1:1111").attrs());
    }

    @Test
    void nilAndEmptyAttributes_areTold_apart_andAChangeBetweenThemIsAnEvent() throws Exception {
        client = connect(Duration.ofSeconds(5));
        ServiceSet set = client.serviceSet("nil");
        Events<ServiceInstance> ev = new Events<>();
        set.watch(false, ev);
        client.register("nil", ":1111");
        ServiceInstance nil = ev.next();
        assertTrue(nil.attrsNil());
        assertEquals(Map.of(), nil.attrs());
        client.register("nil", ":1111", Map.of());
        ServiceInstance empty = ev.next();
        assertFalse(empty.attrsNil());
        assertEquals(nil.created(), empty.created());
        assertFalse(set.services().get(0).attrsNil());
    }

    @Test
    void standby_closedClient_failsTheFutureOnAListenerThread() throws Exception {
        client = connect(Duration.ofSeconds(5));
        daemon.putDirect("standby", "127.0.0.1:1111", null); // the leader
        CompletableFuture<ServiceInstance> f = client.registerAndStandby("standby", ":2222", null);
        CompletableFuture<String> thread = f.handle((r, e) -> Thread.currentThread().getName());
        client.close();
        assertTrue(thread.get(5, TimeUnit.SECONDS).startsWith("discoverd-client-listener-"), thread.get());
    }

    /**
     * A daemon whose store is unreachable answers a Subscribe with the sentinel and then the error
     * (PROTOCOL.md §5.5.4): a one-shot listing must say so, not report an empty service.
     */
    @Test
    void services_whenTheStreamFailsRightAfterItsSentinel_throwsTheDaemonsError_notAnEmptyList() throws Exception {
        client = connect(Duration.ofSeconds(5));
        daemon.putDirect("down", "127.0.0.1:1111", null);
        daemon.failSubscribesAfterSentinel("down", "discoverd: store unavailable: etcd http://127.0.0.1:2379");
        DiscoverdException e = assertThrows(DiscoverdException.class, () -> client.services("down"));
        assertEquals(DiscoverdException.Kind.SERVER_ERROR, e.kind());
        assertEquals("discoverd: store unavailable: etcd http://127.0.0.1:2379", e.serverMessage());
        daemon.failSubscribesAfterSentinel("down", null);
        assertEquals(List.of("127.0.0.1:1111"), client.services("down").stream().map(ServiceInstance::addr).toList());
    }
}
