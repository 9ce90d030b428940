package io.discoverd.backend.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Instance;
import io.discoverd.backend.Registration;
import io.discoverd.backend.Registration.Outcome;
import io.discoverd.backend.Subscription;
import io.discoverd.backend.contract.RecordingListener.Event;
import io.discoverd.backend.contract.RecordingListener.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The backend contract suite (ARCHITECTURE.md, "The contract every backend meets"; PROTOCOL.md §5
 * and §6), run by every backend against a real store.
 *
 * <p>A subclass starts its store once (e.g. in a static {@code @BeforeAll}) and implements
 * {@link #newBackend(Duration)}; if two backends can share one store ("two daemons"), it also
 * overrides {@link #newPeerBackend(Duration)}, which turns on the cross-daemon tests. Every test
 * uses service names of its own, so tests need no store cleanup between them; backends created
 * through {@link #backend(Duration)} and {@link #peer(Duration)} are closed after each test.
 *
 * <p>Test methods are public so that a backend's subclass can override one with {@code @Disabled}
 * and a reason while a known defect is being fixed; the skip then shows in every report.
 *
 * <p>Timing: waits are bounded by {@link #TIMEOUT}; "nothing arrives" is asserted after a later
 * marker event has arrived on the same subscription (the backend delivers in store order). Only
 * the TTL tests let time pass on purpose, with {@link #ttl()} kept short.
 */
public abstract class BackendContractTest {

    /** The longest wait for anything that should happen promptly. */
    protected static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** The TTL used by backends that are not testing expiry: long enough that nothing expires. */
    protected static final Duration LONG_TTL = Duration.ofSeconds(60);

    private final List<DiscoveryBackend> backends = new ArrayList<>();
    private final List<Subscription> subscriptions = new ArrayList<>();

    /**
     * Creates a fresh backend on the subclass's store (the "daemon" under test).
     *
     * @param registrationTtl the registration TTL it must enforce
     */
    protected abstract DiscoveryBackend newBackend(Duration registrationTtl) throws Exception;

    /**
     * Creates a second backend on the same store, standing for another daemon of the cluster, or
     * returns {@code null} when the store cannot be shared (cross-daemon tests are then skipped).
     */
    protected DiscoveryBackend newPeerBackend(Duration registrationTtl) throws Exception {
        return null;
    }

    /** The short TTL of the expiry tests (PROTOCOL.md §5.6 scaled down); 1–2 s. */
    protected Duration ttl() {
        return Duration.ofMillis(1500);
    }

    /** Returns a started backend that is closed after the test. */
    protected final DiscoveryBackend backend(Duration registrationTtl) throws Exception {
        DiscoveryBackend b = newBackend(registrationTtl);
        assertNotNull(b, "newBackend returned null");
        backends.add(b);
        return b;
    }

    /** The backend with {@link #LONG_TTL}. */
    protected final DiscoveryBackend backend() throws Exception {
        return backend(LONG_TTL);
    }

    /** Returns a peer backend closed after the test; skips the test when the subclass has none. */
    protected final DiscoveryBackend peer(Duration registrationTtl) throws Exception {
        DiscoveryBackend b = newPeerBackend(registrationTtl);
        Assumptions.assumeTrue(b != null, "this backend's test offers no second daemon on the same store");
        backends.add(b);
        return b;
    }

    @AfterEach
    void closeBackends() throws Exception {
        for (Subscription s : subscriptions) {
            s.close();
        }
        for (DiscoveryBackend b : backends) {
            b.close().toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
        backends.clear();
    }

    // ---------------------------------------------------------------- helpers

    /** A service name no other test uses. */
    protected static String uniqueName(String hint) {
        return hint + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Waits for a stage and unwraps its failure. */
    protected static <T> T await(CompletionStage<T> stage) throws Exception {
        try {
            return stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        } catch (TimeoutException e) {
            throw new AssertionError("no answer within " + TIMEOUT, e);
        }
    }

    /** Waits for a stage expected to fail and returns its cause. */
    protected static Throwable awaitFailure(CompletionStage<?> stage) throws Exception {
        try {
            Object v = stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return fail("expected a failure, got " + v);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            while (c instanceof java.util.concurrent.CompletionException && c.getCause() != null) {
                c = c.getCause();
            }
            return c;
        }
    }

    protected final Registration register(DiscoveryBackend b, String name, String addr, Map<String, String> attrs) throws Exception {
        Registration r = await(b.register(name, addr, attrs));
        assertEquals(name, r.instance().name());
        assertEquals(addr, r.instance().addr());
        assertEquals(attrs, r.instance().attrs());
        assertTrue(r.instance().created() >= 1, "created >= 1: " + r);
        return r;
    }

    protected final RecordingListener subscribe(DiscoveryBackend b, String name) {
        RecordingListener l = new RecordingListener();
        subscriptions.add(b.subscribe(name, l));
        return l;
    }

    /** Subscribes and waits for the sentinel. */
    protected final RecordingListener subscribeCurrent(DiscoveryBackend b, String name) {
        RecordingListener l = subscribe(b, name);
        l.awaitCurrent(TIMEOUT);
        return l;
    }

    /**
     * Registers a marker instance and waits until {@code listeners} have all seen it: every
     * earlier event has then been delivered to them.
     */
    protected final String marker(DiscoveryBackend b, String name, RecordingListener... listeners) throws Exception {
        String addr = "marker-" + UUID.randomUUID().toString().substring(0, 8) + ":1";
        register(b, name, addr, Map.of("marker", "true"));
        for (RecordingListener l : listeners) {
            l.awaitOnline(TIMEOUT, addr);
        }
        return addr;
    }

    private static Map<String, String> attrs(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    /** Lets time pass; used only where the passage of time is what the test is about (TTLs). */
    private static void pause(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        for (long left; (left = end - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left);
        }
    }

    private static List<String> shapes(List<Event> events) {
        return events.stream().map(Event::shape).collect(Collectors.toList());
    }

    // ---------------------------------------------------------------- register / unregister

    @Test
    public void register_newInstance_isCreatedWithPositiveCreated() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("web");
        Registration r = register(b, name, "127.0.0.1:8080", Map.of("foo", "bar"));
        assertEquals(Outcome.CREATED, r.outcome());
        assertTrue(b.isConnected());
        assertFalse(b.describe().isBlank(), "describe() names the store");
    }

    @Test
    public void register_sameAttrsAgain_isRefreshedWithSameCreatedAndEmitsNothing() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("hb");
        RecordingListener l = subscribeCurrent(b, name);
        Registration first = register(b, name, "10.0.0.1:1", Map.of("k", "v"));
        l.awaitOnline(TIMEOUT, "10.0.0.1:1");
        for (int i = 0; i < 3; i++) {
            Registration again = register(b, name, "10.0.0.1:1", Map.of("k", "v"));
            assertEquals(Outcome.REFRESHED, again.outcome());
            assertEquals(first.instance(), again.instance());
        }
        String m = marker(b, name, l);
        assertEquals(List.of("online(10.0.0.1:1, {k=v}, " + first.instance().created() + ")"),
                shapes(l.live()).subList(0, 1));
        assertEquals(2, l.live().size(), "heartbeats emit nothing: " + l.live());
        l.assertLiveOnlyAbout("10.0.0.1:1", m);
    }

    @Test
    public void register_changedAttrs_isUpdatedWithSameCreatedAndOneOnlineEvent() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("attrs");
        RecordingListener l = subscribeCurrent(b, name);
        Registration first = register(b, name, "10.0.0.1:1", Map.of("v", "1"));
        Registration second = register(b, name, "10.0.0.1:1", Map.of("v", "2"));
        assertEquals(Outcome.UPDATED, second.outcome());
        assertEquals(first.instance().created(), second.instance().created());
        String m = marker(b, name, l);
        long c = first.instance().created();
        List<String> live = shapes(l.live());
        assertEquals(List.of("online(10.0.0.1:1, {v=1}, " + c + ")", "online(10.0.0.1:1, {v=2}, " + c + ")"),
                live.subList(0, 2));
        assertEquals(3, live.size(), live.toString());
        assertTrue(live.get(2).startsWith("online(" + m));
    }

    @Test
    public void register_nilAndEmptyAttrsDiffer_switchingIsAnUpdateWithOnlineEvent() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("nil");
        RecordingListener l = subscribeCurrent(b, name);
        Registration nil = register(b, name, "a:1", null);
        assertEquals(Outcome.CREATED, nil.outcome());
        assertNull(nil.instance().attrs());
        assertEquals(Outcome.REFRESHED, register(b, name, "a:1", null).outcome());
        Registration empty = register(b, name, "a:1", Map.of());
        assertEquals(Outcome.UPDATED, empty.outcome());
        assertEquals(Map.of(), empty.instance().attrs());
        assertEquals(Outcome.REFRESHED, register(b, name, "a:1", new HashMap<>()).outcome());
        assertEquals(Outcome.UPDATED, register(b, name, "a:1", null).outcome());
        marker(b, name, l);
        List<Event> live = l.live();
        assertEquals(4, live.size(), live.toString());
        long c = nil.instance().created();
        assertEquals(new Event(Kind.ONLINE, name, "a:1", null, c, 0).shape(), live.get(0).shape());
        assertEquals(Map.of(), live.get(1).attrs(), "nil -> {} delivers an empty map, not nil");
        assertEquals(c, live.get(1).created());
        assertNull(live.get(2).attrs(), "{} -> nil delivers nil");
        assertEquals(c, live.get(2).created());
    }

    @Test
    public void attrs_roundTripExactlyThroughSnapshotAndLeader() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("rt");
        Map<String, String> a = attrs("", "empty key", "empty value", "", "unicode ✓ ü", "日本", "quote\"\\", "{}\n\t");
        register(b, name, "h:1", a);
        register(b, name, "h:2", Map.of());
        register(b, name, "h:3", null);
        Map<String, Event> snap = subscribeCurrent(b, name).snapshotByAddr();
        assertEquals(Set.of("h:1", "h:2", "h:3"), snap.keySet());
        assertEquals(a, snap.get("h:1").attrs());
        assertEquals(Map.of(), snap.get("h:2").attrs());
        assertNull(snap.get("h:3").attrs());
        Instance leader = await(b.leader(name)).orElseThrow();
        assertEquals("h:1", leader.addr());
        assertEquals(a, leader.attrs());
    }

    /**
     * A service larger than one answer of a store client's default limit (gRPC's 4 MiB, ZooKeeper's
     * 1 MiB {@code jute.maxbuffer}): 80 instances with 60 KiB of attrs each, within the daemon's
     * default {@code maxAttrsBytes} (64 KiB). Its snapshot, its leader and its live changes still come.
     */
    @Test
    public void aServiceLargerThanOneStoreAnswer_isSubscribedAndLed() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("large");
        String blob = "x".repeat(60 << 10);
        register(b, name, "l:0", attrs("blob", blob, "i", "0")); // the oldest: the leader
        List<CompletionStage<Registration>> writes = new ArrayList<>();
        for (int i = 1; i < 80; i++) {
            writes.add(b.register(name, "l:" + i, attrs("blob", blob, "i", "" + i)));
        }
        for (CompletionStage<Registration> w : writes) {
            await(w);
        }
        RecordingListener l = subscribeCurrent(b, name);
        Map<String, Event> snap = l.snapshotByAddr();
        assertEquals(80, snap.size());
        assertEquals(attrs("blob", blob, "i", "7"), snap.get("l:7").attrs());
        assertEquals("l:0", await(b.leader(name)).orElseThrow().addr());
        marker(b, name, l);
        l.assertNoViolations();
    }

    @Test
    public void unregister_registeredInstance_removesItWithOfflineEvent() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("unreg");
        register(b, name, "x:1", null);
        RecordingListener l = subscribeCurrent(b, name);
        assertEquals(Set.of("x:1"), l.snapshotByAddr().keySet());
        await(b.unregister(name, "x:1"));
        Event off = l.awaitOffline(TIMEOUT, "x:1");
        assertEquals(name, off.name());
        assertTrue(subscribeCurrent(b, name).snapshot().isEmpty(), "gone from a later snapshot");
        assertEquals(Optional.empty(), await(b.leader(name)));
    }

    @Test
    public void unregister_unknownOrTwice_failsWithKeyNotFound() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("nf");
        Throwable t = awaitFailure(b.unregister(name, "10.9.9.9:1"));
        assertInstanceOf(DiscoveryException.InstanceNotFound.class, t);
        assertTrue(t.getMessage().startsWith("100: Key not found ("), t.getMessage());
        register(b, name, "10.9.9.9:1", null);
        await(b.unregister(name, "10.9.9.9:1"));
        Throwable again = awaitFailure(b.unregister(name, "10.9.9.9:1"));
        assertInstanceOf(DiscoveryException.InstanceNotFound.class, again);
        assertTrue(again.getMessage().startsWith("100: Key not found ("), again.getMessage());
    }

    @Test
    public void invalidNamesAndAddrs_areRefusedAndSubscribeGetsSentinelOnly() throws Exception {
        DiscoveryBackend b = backend();
        for (String bad : List.of("", ".", "..", "a/b", "tab\tname", "del\u007f", "x".repeat(256), "priv\ue000")) {
            assertInstanceOf(DiscoveryException.InvalidName.class, awaitFailure(b.register(bad, "1.2.3.4:5", null)), bad);
            assertInstanceOf(DiscoveryException.InvalidName.class, awaitFailure(b.unregister(bad, "1.2.3.4:5")), bad);
            assertInstanceOf(DiscoveryException.InvalidAddr.class, awaitFailure(b.register("svc", bad, null)), bad);
            assertInstanceOf(DiscoveryException.InvalidAddr.class, awaitFailure(b.unregister("svc", bad)), bad);
        }
        RecordingListener l = subscribe(b, "a/b");
        assertTrue(l.awaitCurrent(TIMEOUT).isEmpty());
        // Nothing can be registered under that name, so no marker is possible: a short bounded wait.
        CountDownLatch never = new CountDownLatch(1);
        assertFalse(never.await(200, TimeUnit.MILLISECONDS));
        assertEquals(1, l.events().size(), l.events().toString());
        l.assertNoViolations();
    }

    // ---------------------------------------------------------------- subscribe

    @Test
    public void subscribe_emptyService_getsSentinelOnlyThenLaterChanges() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("empty");
        RecordingListener l = subscribe(b, name);
        assertTrue(l.awaitCurrent(TIMEOUT).isEmpty());
        register(b, name, "n:1", null);
        l.awaitOnline(TIMEOUT, "n:1");
    }

    @Test
    public void subscribe_deliversSnapshotThenExactlyOneCurrentThenLive() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("snap");
        Map<String, Long> created = new HashMap<>();
        for (int i = 1; i <= 3; i++) {
            created.put("s:" + i, register(b, name, "s:" + i, Map.of("i", "" + i)).instance().created());
        }
        RecordingListener l = subscribeCurrent(b, name);
        Map<String, Event> snap = l.snapshotByAddr();
        assertEquals(created.keySet(), snap.keySet());
        snap.forEach((addr, e) -> {
            assertEquals(created.get(addr), e.created());
            assertEquals(name, e.name());
        });
        register(b, name, "s:4", null);
        l.awaitOnline(TIMEOUT, "s:4");
        assertEquals(1, l.events().stream().filter(e -> e.kind() == Kind.CURRENT).count());
        assertEquals(3, l.snapshot().size());
    }

    @Test
    public void subscribe_racingWithManyConcurrentRegistrations_seesEachExactlyOnce() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("race");
        int n = 100;
        List<CompletableFuture<Registration>> regs = new ArrayList<>();
        RecordingListener[] l = new RecordingListener[1];
        for (int i = 0; i < n; i++) {
            regs.add(b.register(name, "10.1.0." + i + ":80", null).toCompletableFuture());
            if (i == n / 3) {
                l[0] = subscribe(b, name);
            }
        }
        CompletableFuture.allOf(regs.toArray(CompletableFuture[]::new)).get(TIMEOUT.toSeconds() * 3, TimeUnit.SECONDS);
        RecordingListener listener = l[0];
        listener.awaitCurrent(TIMEOUT);
        listener.awaitUntil(TIMEOUT, "all " + n + " instances", evs -> evs.stream()
                .filter(e -> e.kind() == Kind.ONLINE).map(Event::addr).distinct().count() == n);
        marker(b, name, listener);
        Map<String, Long> counts = listener.events().stream().filter(e -> e.kind() == Kind.ONLINE)
                .filter(e -> !e.addr().startsWith("marker-"))
                .collect(Collectors.groupingBy(Event::addr, Collectors.counting()));
        assertEquals(n, counts.size());
        counts.forEach((addr, c) -> assertEquals(1L, c, addr + " delivered " + c + " times: " + listener.events()));
        assertTrue(listener.events().stream().noneMatch(e -> e.kind() == Kind.OFFLINE));
        Map<String, Long> createdByAddr = regs.stream().map(CompletableFuture::join)
                .collect(Collectors.toMap(r -> r.instance().addr(), r -> r.instance().created()));
        for (Event e : listener.events()) {
            if (e.kind() == Kind.ONLINE && createdByAddr.containsKey(e.addr())) {
                assertEquals(createdByAddr.get(e.addr()), e.created(), e.toString());
            }
        }
        assertEquals(n, new HashSet<>(createdByAddr.values()).size(), "created unique");
    }

    @Test
    public void subscribe_twoSubscribersSeeIdenticalLiveSequences_otherNameSeesNothing() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("two");
        String other = uniqueName("other");
        register(b, name, "pre:1", null);
        RecordingListener one = subscribeCurrent(b, name);
        RecordingListener two = subscribeCurrent(b, name);
        RecordingListener third = subscribeCurrent(b, other);
        List<CompletableFuture<?>> writes = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            writes.add(b.register(name, "m:" + i, Map.of("i", "" + i)).toCompletableFuture());
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        writes.clear();
        for (int i = 0; i < 10; i++) {
            writes.add(i % 2 == 0
                    ? b.unregister(name, "m:" + i).toCompletableFuture()
                    : b.register(name, "m:" + i, Map.of("i", "changed")).toCompletableFuture());
        }
        writes.add(b.unregister(name, "pre:1").toCompletableFuture());
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        marker(b, name, one, two);
        assertEquals(shapes(one.live()), shapes(two.live()));
        assertEquals(10 + 5 + 5 + 1 + 1, one.live().size(), one.live().toString());
        marker(b, other, third);
        assertEquals(1, third.live().size(), "the other name sees only its own marker: " + third.live());
    }

    @Test
    public void subscribe_registerImmediatelyFollowedByUnregister_yieldsOnlineThenOffline() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("flip");
        RecordingListener l = subscribeCurrent(b, name);
        int n = 20;
        for (int i = 0; i < n; i++) {
            String addr = "f:" + i;
            await(b.register(name, addr, null).thenCompose(r -> b.unregister(name, addr)));
        }
        marker(b, name, l);
        List<Event> live = l.live();
        assertEquals(2 * n + 1, live.size(), live.toString());
        for (int i = 0; i < n; i++) {
            assertEquals(Kind.ONLINE, live.get(2 * i).kind(), live.toString());
            assertEquals("f:" + i, live.get(2 * i).addr());
            assertEquals(Kind.OFFLINE, live.get(2 * i + 1).kind(), live.toString());
            assertEquals("f:" + i, live.get(2 * i + 1).addr());
        }
    }

    @Test
    public void subscribe_close_stopsDeliveryAtOnce() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("close");
        RecordingListener closed = new RecordingListener();
        Subscription s = b.subscribe(name, closed);
        closed.awaitCurrent(TIMEOUT);
        RecordingListener open = subscribeCurrent(b, name);
        register(b, name, "c:1", null);
        closed.awaitOnline(TIMEOUT, "c:1");
        s.close();
        int seen = closed.events().size();
        register(b, name, "c:2", null);
        await(b.unregister(name, "c:1"));
        marker(b, name, open);
        assertEquals(seen, closed.events().size(), "no call after close(): " + closed.events());
        s.close(); // twice is harmless
    }

    @Test
    public void subscribe_closeFromInsideTheListener_stopsFurtherCalls() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("selfclose");
        for (int i = 0; i < 5; i++) {
            register(b, name, "sc:" + i, null);
        }
        AtomicBoolean called = new AtomicBoolean();
        Subscription[] handle = new Subscription[1];
        CountDownLatch assigned = new CountDownLatch(1);
        RecordingListener rec = new RecordingListener();
        handle[0] = b.subscribe(name, new io.discoverd.backend.SubscriptionListener() {
            @Override
            public void online(Instance instance) {
                rec.online(instance);
                closeOnce();
            }

            @Override
            public void offline(String n, String a) {
                rec.offline(n, a);
            }

            @Override
            public void current() {
                rec.current();
            }

            @Override
            public void failed(DiscoveryException cause) {
                rec.failed(cause);
            }

            private void closeOnce() {
                if (called.compareAndSet(false, true)) {
                    try {
                        assigned.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    handle[0].close();
                }
            }
        });
        assigned.countDown();
        RecordingListener witness = subscribeCurrent(b, name);
        marker(b, name, witness);
        assertEquals(1, rec.events().size(), "only the call that closed it: " + rec.events());
    }

    @Test
    public void listener_isNeverCalledConcurrently_underConcurrentWrites() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("serial");
        RecordingListener l = subscribeCurrent(b, name);
        List<Thread> threads = new ArrayList<>();
        List<CompletableFuture<?>> all = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 4; t++) {
            int tt = t;
            Thread th = new Thread(() -> {
                for (int i = 0; i < 20; i++) {
                    String addr = "t" + tt + ":" + i;
                    all.add(b.register(name, addr, Map.of("x", "1"))
                            .thenCompose(r -> b.register(name, addr, Map.of("x", "2")))
                            .thenCompose(r -> b.unregister(name, addr)).toCompletableFuture());
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(TIMEOUT.toMillis() * 3, TimeUnit.MILLISECONDS);
        marker(b, name, l);
        l.assertNoViolations();
        Map<String, List<Kind>> perAddr = new HashMap<>();
        for (Event e : l.live()) {
            perAddr.computeIfAbsent(e.addr(), k -> new ArrayList<>()).add(e.kind());
        }
        perAddr.forEach((addr, kinds) -> {
            if (!addr.startsWith("marker-")) {
                assertEquals(List.of(Kind.ONLINE, Kind.ONLINE, Kind.OFFLINE), kinds, addr);
            }
        });
        assertEquals(81, perAddr.size());
    }

    // ---------------------------------------------------------------- created and leader

    @Test
    public void created_isStrictlyIncreasingUniqueAcrossNamesAndUnchangedByHeartbeatsAndAttrChanges() throws Exception {
        DiscoveryBackend b = backend();
        String n1 = uniqueName("c1");
        String n2 = uniqueName("c2");
        List<Long> order = new ArrayList<>();
        Map<String, Long> byAddr = new LinkedHashMap<>();
        for (String port : List.of("1111", "2222", "3333", "4444")) {
            long c1 = register(b, n1, ":" + port, null).instance().created();
            long c2 = register(b, n2, ":" + port, null).instance().created();
            order.add(c1);
            order.add(c2);
            byAddr.put(":" + port, c1);
            // heartbeats and attribute changes in between
            for (String addr : byAddr.keySet()) {
                assertEquals(byAddr.get(addr), register(b, n1, addr, null).instance().created());
            }
            assertEquals(c1, register(b, n1, ":" + port, Map.of("p", port)).instance().created());
            assertEquals(c1, register(b, n1, ":" + port, null).instance().created());
        }
        for (int i = 1; i < order.size(); i++) {
            assertTrue(order.get(i - 1) < order.get(i), "strictly increasing: " + order);
        }
        Map<String, Event> snap = subscribeCurrent(b, n1).snapshotByAddr();
        byAddr.forEach((addr, c) -> assertEquals(c, snap.get(addr).created(), addr));
    }

    @Test
    public void leader_isSmallestCreatedAndChangesWhenItLeaves() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("lead");
        assertEquals(Optional.empty(), await(b.leader(name)));
        Registration a = register(b, name, "l:1", Map.of("r", "a"));
        Registration c = register(b, name, "l:2", null);
        Registration d = register(b, name, "l:3", null);
        assertEquals(a.instance(), await(b.leader(name)).orElseThrow());
        register(b, name, "l:1", Map.of("r", "changed")); // attr change keeps leadership
        assertEquals("l:1", await(b.leader(name)).orElseThrow().addr());
        await(b.unregister(name, "l:1"));
        assertEquals(c.instance(), await(b.leader(name)).orElseThrow());
        Registration back = register(b, name, "l:1", null);
        assertTrue(back.instance().created() > d.instance().created(), "re-registration is a new, younger instance");
        assertEquals(c.instance(), await(b.leader(name)).orElseThrow());
        await(b.unregister(name, "l:2"));
        await(b.unregister(name, "l:3"));
        assertEquals(back.instance(), await(b.leader(name)).orElseThrow());
    }

    @Test
    public void readYourWrites_subscribeAfterRegisterOrUnregisterReflectsIt() throws Exception {
        DiscoveryBackend b = backend();
        String name = uniqueName("ryw");
        for (int i = 0; i < 5; i++) {
            Registration r = register(b, name, "r:" + i, null);
            Map<String, Event> snap = subscribeCurrent(b, name).snapshotByAddr();
            assertTrue(snap.containsKey("r:" + i), "after register: " + snap);
            assertEquals(r.instance().created(), snap.get("r:" + i).created());
            await(b.unregister(name, "r:" + i));
            assertFalse(subscribeCurrent(b, name).snapshotByAddr().containsKey("r:" + i), "after unregister");
            assertEquals(Optional.empty(), await(b.leader(name)));
        }
    }

    // ---------------------------------------------------------------- TTL

    @Test
    public void ttl_expiryEmitsOfflineNoSoonerThanTtlAndWithinOneSecondAfter() throws Exception {
        Duration ttl = ttl();
        DiscoveryBackend b = backend(ttl);
        String name = uniqueName("ttl");
        RecordingListener l = subscribeCurrent(b, name);
        long before = System.nanoTime();
        Registration r = register(b, name, "e:1", null);
        long replied = System.nanoTime();
        Event off = l.awaitOffline(ttl.plusSeconds(5), "e:1");
        assertTrue(off.atNanos() - before >= ttl.toNanos(),
                "expired " + (off.atNanos() - before) / 1_000_000 + " ms after the register, TTL " + ttl.toMillis());
        assertTrue(off.atNanos() - replied <= ttl.plusSeconds(1).toNanos(),
                "expired " + (off.atNanos() - replied) / 1_000_000 + " ms after the reply, TTL " + ttl.toMillis());
        assertFalse(subscribeCurrent(b, name).snapshotByAddr().containsKey("e:1"));
        Throwable t = awaitFailure(b.unregister(name, "e:1"));
        assertInstanceOf(DiscoveryException.InstanceNotFound.class, t);
        Registration again = register(b, name, "e:1", null);
        assertEquals(Outcome.CREATED, again.outcome());
        assertTrue(again.instance().created() > r.instance().created(), "a larger created after expiry");
    }

    @Test
    public void ttl_heartbeatsBeforeTheDeadlineKeepTheInstanceOnline() throws Exception {
        Duration ttl = ttl();
        DiscoveryBackend b = backend(ttl);
        String name = uniqueName("keep");
        RecordingListener l = subscribeCurrent(b, name);
        long created = register(b, name, "k:1", Map.of("a", "b")).instance().created();
        register(b, name, "k:2", null); // never refreshed: expires, serving as the time marker
        long end = System.nanoTime() + ttl.multipliedBy(2).toNanos();
        while (System.nanoTime() < end) {
            pause(ttl.dividedBy(3));
            Registration hb = register(b, name, "k:1", Map.of("a", "b"));
            assertEquals(Outcome.REFRESHED, hb.outcome());
            assertEquals(created, hb.instance().created());
        }
        l.awaitOffline(TIMEOUT, "k:2");
        assertTrue(l.live().stream().noneMatch(e -> e.kind() == Kind.OFFLINE && e.addr().equals("k:1")), l.live().toString());
        assertEquals(created, subscribeCurrent(b, name).snapshotByAddr().get("k:1").created());
    }

    // ---------------------------------------------------------------- several daemons

    @Test
    public void peer_registerThroughOneSubscribeThroughOther_sameCreatedBothWays() throws Exception {
        DiscoveryBackend a = backend();
        DiscoveryBackend p = peer(LONG_TTL);
        String name = uniqueName("peer");
        RecordingListener onA = subscribeCurrent(a, name);
        Registration first = null;
        for (int i = 0; i < 5; i++) {
            Registration r = register(a, name, "p:" + i, null);
            first = first == null ? r : first;
            Map<String, Event> snap = subscribeCurrent(p, name).snapshotByAddr();
            assertEquals(r.instance().created(), snap.get("p:" + i).created(), "read-your-writes across daemons");
            assertEquals(first.instance(), await(p.leader(name)).orElseThrow(), "leader read through the peer");
        }
        RecordingListener onP = subscribeCurrent(p, name);
        Registration viaP = register(p, name, "q:1", Map.of("via", "peer"));
        onA.awaitOnline(TIMEOUT, "q:1");
        assertEquals(viaP.instance().created(), onA.live().stream().filter(e -> "q:1".equals(e.addr())).findFirst().orElseThrow().created());
        await(a.unregister(name, "p:0"));
        assertFalse(subscribeCurrent(p, name).snapshotByAddr().containsKey("p:0"), "unregister visible through the peer");
        onP.awaitOffline(TIMEOUT, "p:0");
        assertEquals("p:1", await(p.leader(name)).orElseThrow().addr());
    }

    @Test
    public void peer_registrationsThroughOtherDaemonRacingSubscribe_eachSeenExactlyOnce() throws Exception {
        DiscoveryBackend a = backend();
        DiscoveryBackend p = peer(LONG_TTL);
        String name = uniqueName("xrace");
        int n = 100;
        List<CompletableFuture<Registration>> regs = new ArrayList<>();
        RecordingListener l = null;
        for (int i = 0; i < n; i++) {
            regs.add(p.register(name, "10.2.0." + i + ":80", Map.of("i", "" + i)).toCompletableFuture());
            if (i == n / 2) {
                l = subscribe(a, name);
            }
        }
        CompletableFuture.allOf(regs.toArray(CompletableFuture[]::new)).get(TIMEOUT.toSeconds() * 3, TimeUnit.SECONDS);
        RecordingListener listener = l;
        listener.awaitCurrent(TIMEOUT);
        listener.awaitUntil(TIMEOUT, "all " + n + " instances", evs -> evs.stream()
                .filter(e -> e.kind() == Kind.ONLINE).map(Event::addr).distinct().count() == n);
        marker(p, name, listener);
        Map<String, Long> counts = listener.events().stream().filter(e -> e.kind() == Kind.ONLINE)
                .filter(e -> !e.addr().startsWith("marker-"))
                .collect(Collectors.groupingBy(Event::addr, Collectors.counting()));
        assertEquals(n, counts.size());
        counts.forEach((addr, c) -> assertEquals(1L, c, addr + " delivered " + c + " times: " + listener.events()));
    }

    @Test
    public void peer_heartbeatThroughOtherDaemon_refreshesKeepingCreated() throws Exception {
        Duration ttl = ttl();
        DiscoveryBackend a = backend(ttl);
        DiscoveryBackend p = peer(ttl);
        String name = uniqueName("xhb");
        RecordingListener l = subscribeCurrent(a, name);
        Registration r = register(a, name, "x:1", Map.of("a", "1"));
        register(a, name, "x:2", null); // not refreshed: expires, the time marker
        long end = System.nanoTime() + ttl.multipliedBy(2).toNanos();
        while (System.nanoTime() < end) {
            pause(ttl.dividedBy(3));
            Registration hb = register(p, name, "x:1", Map.of("a", "1"));
            assertEquals(Outcome.REFRESHED, hb.outcome());
            assertEquals(r.instance().created(), hb.instance().created());
        }
        l.awaitOffline(TIMEOUT, "x:2");
        assertTrue(l.live().stream().noneMatch(e -> "x:1".equals(e.addr()) && e.kind() != Kind.ONLINE), l.live().toString());
        assertEquals(1, l.live().stream().filter(e -> "x:1".equals(e.addr())).count(), "a refresh with equal attrs emits nothing");
        Registration changed = register(p, name, "x:1", Map.of("a", "2"));
        assertEquals(Outcome.UPDATED, changed.outcome());
        assertEquals(r.instance().created(), changed.instance().created());
        Event e = l.awaitLive(TIMEOUT, "changed attrs", ev -> "x:1".equals(ev.addr()) && Map.of("a", "2").equals(ev.attrs()));
        assertEquals(r.instance().created(), e.created());
    }

    @Test
    public void peer_unregisterThroughOtherDaemon_removesInstance() throws Exception {
        DiscoveryBackend a = backend();
        DiscoveryBackend p = peer(LONG_TTL);
        String name = uniqueName("xun");
        RecordingListener l = subscribeCurrent(a, name);
        register(a, name, "u:1", null);
        Registration second = register(a, name, "u:2", null);
        await(p.unregister(name, "u:1"));
        l.awaitOffline(TIMEOUT, "u:1");
        assertFalse(subscribeCurrent(a, name).snapshotByAddr().containsKey("u:1"));
        assertEquals(second.instance(), await(a.leader(name)).orElseThrow());
        assertInstanceOf(DiscoveryException.InstanceNotFound.class, awaitFailure(a.unregister(name, "u:1")));
        Registration back = register(a, name, "u:1", null);
        assertEquals(Outcome.CREATED, back.outcome());
        assertNotEquals(second.instance().created(), back.instance().created());
        assertTrue(back.instance().created() > second.instance().created());
    }

    @Test
    public void peer_drain_takesEveryInstanceOfTheDrainedDaemonOfflineAtOnce_andNoOther() throws Exception {
        DiscoveryBackend drained = backend();
        DiscoveryBackend p = peer(LONG_TTL);
        String name = uniqueName("drain");
        Registration one = register(drained, name, "d:1", null);
        register(drained, name, "d:2", attrs("k", "v"));
        Registration stays = register(p, name, "p:1", null);
        RecordingListener l = subscribeCurrent(p, name);
        assertEquals(3, l.snapshot().size());
        await(drained.drain());
        // At once: long before any TTL or session timeout could have done it.
        l.awaitOffline(Duration.ofSeconds(2), "d:1");
        l.awaitOffline(Duration.ofSeconds(2), "d:2");
        assertFalse(l.sawLive("p:1"), "the other daemon's instance is untouched: " + l.events());
        assertFalse(drained.isConnected(), "a drained backend is stopped");
        await(drained.drain()); // idempotent
        assertEquals(stays.instance(), await(p.leader(name)).orElseThrow());
        // A heartbeat now reaching the other daemon registers the instance again, as a new one.
        Registration back = register(p, name, "d:1", null);
        assertEquals(Outcome.CREATED, back.outcome());
        assertTrue(back.instance().created() > one.instance().created());
    }
}
