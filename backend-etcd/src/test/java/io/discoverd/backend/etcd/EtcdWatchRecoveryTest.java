package io.discoverd.backend.etcd;

import static io.discoverd.backend.etcd.EtcdTests.TIMEOUT;
import static io.discoverd.backend.etcd.EtcdTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Instance;
import io.discoverd.backend.Registration;
import io.discoverd.backend.Registration.Outcome;
import io.discoverd.backend.contract.RecordingListener;
import io.discoverd.backend.contract.RecordingListener.Event;
import io.discoverd.backend.contract.RecordingListener.Kind;
import io.discoverd.backend.etcd.testing.EtcdProcess;
import io.discoverd.backend.etcd.testing.TcpProxy;
import io.etcd.jetcd.Client;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Store outages and lost watches (ARCHITECTURE.md "Liveness", "Store unreachable"; the contract's
 * "If the store watch is lost ... resynchronises and emits the differences"): calls fail fast while
 * etcd is away, subscriptions stay open and deliver every later change exactly once; when the
 * history a watch needs was compacted meanwhile, subscribers get exactly the differences.
 *
 * <p>The compaction case cuts one daemon off etcd with a {@link TcpProxy} (a partition) rather than
 * stopping etcd: the other daemon changes the service and compacts while the cut daemon cannot
 * resume its watch, so the resync path is taken every time, not only when a backoff happens to be
 * long enough.
 */
class EtcdWatchRecoveryTest {

    /** The request timeout of the daemons under test (EtcdTestSupport.section): calls must fail well within it. */
    private static final long REQUEST_TIMEOUT_MS = 3000;

    private EtcdProcess etcd;
    private Vertx vertx;
    @TempDir
    Path dataDir;
    private final List<DiscoveryBackend> backends = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void startEtcd() throws Exception {
        etcd = EtcdProcess.startSingle();
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stopAll() throws Exception {
        for (DiscoveryBackend b : backends) {
            b.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        etcd.close();
    }

    private DiscoveryBackend daemon(JsonObject section) {
        DiscoveryBackend b = EtcdTestSupport.backend(vertx, section, Duration.ofSeconds(60), dataDir);
        backends.add(b);
        return b;
    }

    /** Runs {@code call} while etcd is away: it must fail with StoreUnavailable naming the endpoint, well within the request timeout. */
    private long failsFast(String what, Supplier<CompletionStage<?>> call) throws Exception {
        long t0 = System.nanoTime();
        Throwable f = EtcdTests.failure(call.get());
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertInstanceOf(DiscoveryException.StoreUnavailable.class, f, what + ": " + f);
        assertTrue(f.getMessage().startsWith("discoverd: store unavailable:"), what + ": " + f.getMessage());
        assertTrue(f.getMessage().contains(etcd.endpoint()), what + " names the endpoint: " + f.getMessage());
        assertTrue(ms < REQUEST_TIMEOUT_MS, what + " took " + ms + " ms with etcd down: it waited for the request timeout instead of failing fast");
        return ms;
    }

    private static String online(Instance i) {
        return new Event(Kind.ONLINE, i.name(), i.addr(), i.attrs(), i.created(), 0).shape();
    }

    private static String offline(String addr) {
        return new Event(Kind.OFFLINE, "x", addr, null, 0, 0).shape();
    }

    private static List<String> shapes(List<Event> events) {
        return events.stream().map(Event::shape).toList();
    }

    @Test
    void etcdDown_callsFailFast_andSubscriptionsDeliverLaterChangesExactlyOnce() throws Exception {
        JsonObject section = EtcdTestSupport.section(etcd.endpoint(), EtcdTestSupport.uniquePrefix());
        DiscoveryBackend daemon = daemon(section);
        DiscoveryBackend peer = daemon(section);
        Registration x1 = await(daemon.register("wr", "x1:1", Map.of("v", "1")));
        Registration x2 = await(daemon.register("wr", "x2:1", Map.of("v", "1")));
        await(peer.register("wr", "x3:1", null));
        RecordingListener atDaemon = new RecordingListener();
        RecordingListener atPeer = new RecordingListener();
        daemon.subscribe("wr", atDaemon);
        peer.subscribe("wr", atPeer);
        assertEquals(3, atDaemon.awaitCurrent(TIMEOUT).size());
        assertEquals(3, atPeer.awaitCurrent(TIMEOUT).size());
        EtcdTests.waitFor(TIMEOUT, "connected", () -> daemon.isConnected() && peer.isConnected());

        long stoppedAt = System.nanoTime();
        etcd.stop();
        List<String> times = new ArrayList<>();
        times.add("register " + failsFast("register", () -> daemon.register("wr", "new:1", null)) + " ms");
        times.add("heartbeat " + failsFast("heartbeat", () -> daemon.register("wr", "x2:1", Map.of("v", "1"))) + " ms");
        times.add("unregister " + failsFast("unregister", () -> daemon.unregister("wr", "x1:1")) + " ms");
        times.add("leader " + failsFast("leader", () -> daemon.leader("wr")) + " ms");
        // The peer made no call: its probe alone must notice.
        EtcdTests.waitFor(Duration.ofMillis(3500), "the peer to notice etcd is down", () -> !peer.isConnected());
        long noticedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt);
        times.add("peer disconnected after " + noticedMs + " ms");
        assertTrue(noticedMs <= 3500, "isConnected() turned false " + noticedMs + " ms after etcd stopped");
        assertFalse(daemon.isConnected());
        // A new subscription while etcd is down ends with the sentinel and the error instead of hanging.
        RecordingListener during = new RecordingListener();
        daemon.subscribe("wr", during);
        during.awaitUntil(Duration.ofMillis(REQUEST_TIMEOUT_MS + 1000), "failed()",
                evs -> evs.stream().anyMatch(e -> e.kind() == Kind.FAILED));
        assertTrue(during.events().get(during.events().size() - 1).addr().startsWith("discoverd: store unavailable:"),
                during.events().toString());
        System.out.println("EtcdWatchRecoveryTest outage timings: " + times);

        etcd.start();
        etcd.awaitReady();
        long upAt = System.nanoTime();
        EtcdTests.waitFor(TIMEOUT, "both daemons to reconnect", () -> daemon.isConnected() && peer.isConnected());
        System.out.println("EtcdWatchRecoveryTest reconnected after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - upAt) + " ms");
        assertEquals(List.of(), atDaemon.live(), "nothing emitted over the outage");
        assertEquals(List.of(), atPeer.live(), "nothing emitted over the outage");

        // Changes after the restart, through the peer; then a marker.
        Registration y1 = await(peer.register("wr", "y1:1", null));
        await(peer.unregister("wr", "x1:1"));
        Registration x2b = await(peer.register("wr", "x2:1", Map.of("v", "2")));
        assertEquals(Outcome.UPDATED, x2b.outcome());
        assertEquals(Outcome.REFRESHED, await(peer.register("wr", "x3:1", null)).outcome());
        Registration marker = await(peer.register("wr", "marker:1", null));
        atDaemon.awaitOnline(TIMEOUT, "marker:1");
        atPeer.awaitOnline(TIMEOUT, "marker:1");
        List<String> expected = List.of(online(y1.instance()), offline("x1:1"), online(x2b.instance()), online(marker.instance()));
        assertEquals(expected, shapes(atDaemon.live()), "at the daemon: " + atDaemon.events());
        assertEquals(expected, shapes(atPeer.live()), "at the peer: " + atPeer.events());

        // The daemon's remembered leases follow: x2's heartbeat (new attrs) is a refresh; x1 comes back as new.
        Registration hb = await(daemon.register("wr", "x2:1", Map.of("v", "2")));
        assertEquals(Outcome.REFRESHED, hb.outcome(), hb.toString());
        assertEquals(x2.instance().created(), hb.instance().created());
        Registration back = await(daemon.register("wr", "x1:1", Map.of("v", "1")));
        assertEquals(Outcome.CREATED, back.outcome(), "x1 was unregistered through the peer: " + back);
        assertTrue(back.instance().created() > x1.instance().created());
        atPeer.awaitOnline(TIMEOUT, "x1:1");
        atDaemon.assertNoViolations();
        atPeer.assertNoViolations();
        during.assertNoViolations();
    }

    /**
     * One daemon is cut off etcd while another changes the service (and, with {@code compact}, compacts
     * etcd past the changes). When the cut ends, the cut daemon's subscriber gets the missed changes
     * exactly once: replayed in store order, or, when that history is gone, exactly the differences.
     */
    @ParameterizedTest(name = "compacted={0}")
    @ValueSource(booleans = {false, true})
    void watchLostDuringAPartition_recoversExactly(boolean compact) throws Exception {
        TcpProxy proxy = new TcpProxy(etcd.endpoint());
        closeables.add(proxy);
        Client probe = EtcdTests.jetcd(etcd.endpoint());
        closeables.add(probe);
        String prefix = EtcdTestSupport.uniquePrefix();
        DiscoveryBackend cutOff = daemon(EtcdTestSupport.section(proxy.endpoint(), prefix));
        DiscoveryBackend peer = daemon(EtcdTestSupport.section(etcd.endpoint(), prefix));
        Registration a1 = await(peer.register("cp", "a1:1", Map.of("v", "1")));
        Registration a2 = await(peer.register("cp", "a2:1", Map.of("v", "1")));
        Registration a3 = await(peer.register("cp", "a3:1", Map.of("v", "1")));
        RecordingListener atCut = new RecordingListener();
        RecordingListener atPeer = new RecordingListener();
        cutOff.subscribe("cp", atCut);
        peer.subscribe("cp", atPeer);
        assertEquals(3, atCut.awaitCurrent(TIMEOUT).size());
        assertEquals(3, atPeer.awaitCurrent(TIMEOUT).size());
        ListAppender<ILoggingEvent> log = EtcdTests.capture(EtcdServiceView.class);
        try {
            proxy.cut();
            EtcdTests.waitFor(TIMEOUT, "the cut daemon to notice", () -> !cutOff.isConnected());

            await(peer.unregister("cp", "a1:1"));
            Registration a2b = await(peer.register("cp", "a2:1", Map.of("v", "2")));
            assertEquals(Outcome.REFRESHED, await(peer.register("cp", "a3:1", Map.of("v", "1"))).outcome());
            Registration a4 = await(peer.register("cp", "a4:1", null));
            Registration a5 = await(peer.register("cp", "a5:1", null));
            await(peer.unregister("cp", "a5:1"));
            Registration a6 = await(peer.register("cp", "a6:1", Map.of("v", "1")));
            Registration a6b = await(peer.register("cp", "a6:1", Map.of("v", "2")));
            if (compact) {
                long rev = EtcdTests.revision(probe);
                probe.getKVClient().compact(rev).get(10, TimeUnit.SECONDS);
            }
            List<String> sequence = List.of(offline("a1:1"), online(a2b.instance()), online(a4.instance()),
                    online(a5.instance()), offline("a5:1"), online(a6.instance()), online(a6b.instance()));
            atPeer.awaitOnline(TIMEOUT, "a6:1");
            EtcdTests.waitFor(TIMEOUT, "the peer's subscriber to see every change", () -> atPeer.live().size() >= sequence.size());
            assertEquals(sequence, shapes(atPeer.live()), "the uncut subscriber sees every change in store order");
            assertEquals(List.of(), atCut.live(), "nothing reaches the cut daemon during the cut");

            proxy.restore();
            EtcdTests.waitFor(TIMEOUT, "the cut daemon to reconnect", cutOff::isConnected);
            Registration after = await(peer.register("cp", "after:1", null)); // after the recovery in store order
            atCut.awaitOnline(TIMEOUT, "after:1");
            List<String> got = new ArrayList<>(shapes(atCut.live()));
            assertEquals(online(after.instance()), got.remove(got.size() - 1));
            if (compact) {
                assertFalse(EtcdTests.logged(log, "lost its history").isEmpty(),
                        "the compaction was not noticed (no resync): " + got);
                // Exactly the differences: a1 gone, a2 and a6 changed, a4 new; nothing for a3 (unchanged) or a5 (came and went).
                assertEquals(List.of(offline("a1:1")), got.subList(0, 1), "offline first: " + got);
                assertEquals(java.util.Set.of(online(a2b.instance()), online(a4.instance()), online(a6b.instance())),
                        java.util.Set.copyOf(got.subList(1, got.size())), "the differences: " + got);
                assertEquals(4, got.size(), "each difference once: " + got);
            } else {
                assertEquals(sequence, got, "the missed history replayed exactly once, in store order");
            }
            assertEquals(a2.instance().created(), a2b.instance().created());
            assertEquals(a3.instance().created(), await(cutOff.register("cp", "a3:1", Map.of("v", "1"))).instance().created());
            assertTrue(a1.instance().created() > 0);
            atCut.assertNoViolations();
            atPeer.assertNoViolations();
        } finally {
            EtcdTests.release(EtcdServiceView.class, log);
        }
    }
}
