package io.discoverd.backend.etcd;

import static io.discoverd.backend.etcd.EtcdTests.TIMEOUT;
import static io.discoverd.backend.etcd.EtcdTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.backend.Subscription;
import io.discoverd.backend.contract.RecordingListener;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Subscription snapshots on etcd: the first subscriber of a service is served by the view's own
 * read, a view lingers after its last subscriber so that a resubscription does not load the service
 * again, and neither costs read-your-writes through another daemon.
 */
class EtcdSnapshotTest extends EtcdTestBase {

    /** The first page of a service read in the paging tests (EtcdBackend.firstPageKeys, lowered from 5,000). */
    private static final int PAGE = 500;

    private EtcdBackend etcdBackend() {
        return (EtcdBackend) backend(Duration.ofSeconds(30));
    }

    private static Set<String> snapshotAddrs(RecordingListener l) {
        return l.awaitCurrent(TIMEOUT).stream().map(RecordingListener.Event::addr).collect(Collectors.toSet());
    }

    /** Registers {@code n} instances {@code <addrPrefix><i>} with attrs {@code i=<i>}, all in flight, and waits for them. */
    private static void registerAll(EtcdBackend b, String name, String addrPrefix, int n) throws Exception {
        List<CompletionStage<?>> writes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            writes.add(b.register(name, addrPrefix + i, Map.of("i", "" + i)));
        }
        for (CompletionStage<?> w : writes) {
            await(w);
        }
    }

    /**
     * Makes the first service read of {@code b} that has a next page fail there, with what
     * {@code failure} gives (called once, on the store client's event loop: it must not block).
     *
     * @return whether the failure was injected
     */
    private static AtomicBoolean failOnceBetweenPages(EtcdBackend b, Supplier<RuntimeException> failure) {
        AtomicBoolean injected = new AtomicBoolean();
        b.beforeNextPage = prefix -> {
            if (injected.compareAndSet(false, true)) {
                throw failure.get();
            }
        };
        return injected;
    }

    @Test
    void firstSubscriber_readsTheServiceOnce_andAResubscriptionWithinTheLinger_onceMore() throws Exception {
        EtcdBackend b = etcdBackend();
        for (int i = 0; i < 20; i++) {
            await(b.register("once", "o:" + i, null));
        }
        long before = b.serviceReads.get();
        RecordingListener first = new RecordingListener();
        Subscription sub = b.subscribe("once", first);
        assertEquals(20, snapshotAddrs(first).size());
        assertEquals(1, b.serviceReads.get() - before, "reads of the service for the first snapshot");
        sub.close();
        assertEquals(Set.of("once"), b.openViews(), "the view lingers");

        RecordingListener again = new RecordingListener();
        Subscription second = b.subscribe("once", again);
        assertEquals(20, snapshotAddrs(again).size());
        second.close();
        // Its barrier read only: the lingering view is not loaded again.
        assertEquals(2, b.serviceReads.get() - before, "reads of the service for both snapshots");
        first.assertNoViolations();
        again.assertNoViolations();
    }

    /**
     * The first subscriber gets the snapshot while the view's load takes it from the read's pages as
     * they come (here three: 500, 1,000 and 19 keys, the later ones serializable at the first one's
     * revision); one that subscribes right after it waits for its own barrier read and gets it from
     * the view. Both get every instance exactly once (none lost or repeated at a page boundary), then
     * current(), then live changes.
     */
    @Test
    void aServiceOfThreePages_firstAndLaterSnapshots_haveEveryInstanceOnce() throws Exception {
        EtcdBackend b = etcdBackend();
        b.firstPageKeys = PAGE;
        int n = 3 * PAGE + 19;
        registerAll(b, "chunks", "c:", n);
        RecordingListener first = new RecordingListener();
        b.subscribe("chunks", first);
        // Subscribed while the first load is (most likely) under way: it waits with a barrier read of its own.
        RecordingListener later = new RecordingListener();
        b.subscribe("chunks", later);
        first.awaitCurrent(TIMEOUT);
        assertEquals(n, first.snapshotByAddr().size(), "first snapshot (fails on a duplicate)");
        later.awaitCurrent(TIMEOUT);
        assertEquals(n, later.snapshotByAddr().size(), "later snapshot (fails on a duplicate)");
        assertEquals(first.snapshotByAddr().keySet(), later.snapshotByAddr().keySet());

        await(b.register("chunks", "c:new", null));
        first.awaitOnline(TIMEOUT, "c:new");
        later.awaitOnline(TIMEOUT, "c:new");
        first.assertNoViolations();
        later.assertNoViolations();
    }

    /**
     * A first load that fails between two pages (as when etcd goes away mid-read, or compacts the
     * read's revision; here the failure is injected after the first page): its subscriber has had
     * that page, then gets {@code current()} and the store's error (PROTOCOL.md §5.5.4); the view
     * loads the service again from scratch (an instance of the failed page that went away meanwhile
     * is not kept), and a later subscriber gets every instance once, then live changes.
     */
    @Test
    void aFirstLoadFailingBetweenPages_endsItsSubscriber_andTheViewLoadsAgain() throws Exception {
        EtcdBackend b = etcdBackend();
        b.firstPageKeys = PAGE;
        int n = PAGE + 40;
        registerAll(b, "paged", "p:", n);
        AtomicReference<CompletionStage<Void>> unregistered = new AtomicReference<>();
        failOnceBetweenPages(b, () -> {
            // p:0, in the first page, goes away before the view reads the service again.
            unregistered.set(b.unregister("paged", "p:0"));
            return new IllegalStateException("injected between pages");
        });
        RecordingListener first = new RecordingListener();
        b.subscribe("paged", first);
        List<RecordingListener.Event> events = first.awaitUntil(TIMEOUT, "failed()",
                ev -> ev.stream().anyMatch(e -> e.kind() == RecordingListener.Kind.FAILED));
        assertEquals(PAGE, first.snapshotByAddr().size(), "the first page (fails on a duplicate)");
        assertEquals(List.of(RecordingListener.Kind.CURRENT, RecordingListener.Kind.FAILED),
                events.subList(events.size() - 2, events.size()).stream().map(RecordingListener.Event::kind).toList());
        String error = events.get(events.size() - 1).addr();
        assertTrue(error.startsWith("discoverd: store unavailable") && error.contains("injected between pages"), error);
        first.assertNoViolations();

        await(unregistered.get());
        RecordingListener later = new RecordingListener();
        b.subscribe("paged", later);
        later.awaitCurrent(TIMEOUT);
        Map<String, RecordingListener.Event> snap = later.snapshotByAddr();
        assertEquals(n - 1, snap.size(), "every instance left (fails on a duplicate)");
        assertTrue(!snap.containsKey("p:0"), "the view kept an instance of the failed load");
        await(b.register("paged", "p:new", null));
        later.awaitOnline(TIMEOUT, "p:new");
        later.assertNoViolations();
    }

    /**
     * A whole read of a service (a later subscriber's barrier, a leader lookup) whose revision is
     * compacted between two of its pages starts again at the current revision instead of failing.
     * The compaction is etcd's answer as jetcd hands it over for a KV call (gRPC's
     * {@code OUT_OF_RANGE} with etcd's text), injected between the pages: a real compaction there
     * needs a store call while the store client's event loop waits in the hook, which stalled.
     */
    @Test
    void aWholeReadCompactedBetweenPages_startsAgain() throws Exception {
        EtcdBackend b = etcdBackend();
        int n = PAGE + 40;
        registerAll(b, "compacted", "c:", n);
        AtomicBoolean injected = failOnceBetweenPages(b, () -> Status.OUT_OF_RANGE
                .withDescription("etcdserver: mvcc: required revision has been compacted").asRuntimeException());
        b.firstPageKeys = PAGE; // two pages
        long reads = b.serviceReads.get();
        EtcdServiceView.Read whole = await(b.readService(b.key("compacted", "")));
        assertTrue(injected.get());
        assertEquals(2, b.serviceReads.get() - reads, "the read and its restart");
        assertEquals(n, whole.kvs().size(), "every key once: the restart does not keep the first attempt's page");
        assertEquals(n, EtcdServiceView.instances(b.key("compacted", ""), whole.kvs()).size());
    }

    /**
     * A service of large values is read in pages of about 4 MiB (EtcdBackend.READ_PAGE_BYTES) once
     * the backend has read values that size, the first page too, never as one answer of up to 5,000
     * of them (312 MiB at the default maxAttrsBytes of 64 KiB): 150 instances of 60 KiB (9 MiB) in
     * three pages, every instance once, even when a service of small values was read in between
     * (the size estimate comes down by a sixteenth per page, not to the last page's size); the small
     * service, read right after the large one, in at most two.
     */
    @Test
    void aServiceOfLargeValues_isReadInPagesOfAboutFourMiB() throws Exception {
        EtcdBackend b = etcdBackend();
        int n = 150;
        String blob = "x".repeat(60 << 10);
        List<CompletionStage<?>> writes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            writes.add(b.register("large", "l:" + i, Map.of("blob", blob)));
        }
        for (CompletionStage<?> w : writes) {
            await(w);
        }
        registerAll(b, "small", "s:", 300);
        String large = b.key("large", "");
        EtcdServiceView.Read learned = await(b.readService(large)); // the backend learns the values' size
        long bytes = 0;
        for (io.etcd.jetcd.KeyValue kv : learned.kvs()) {
            bytes += kv.getKey().size() + kv.getValue().size();
        }
        long mean = bytes / learned.kvs().size();
        List<Integer> small = new ArrayList<>();
        await(b.readPages(b.key("small", ""), kvs -> small.add(kvs.size())));
        // Its first range is sized for the large values seen last; the next one takes the rest.
        assertEquals(300, small.stream().mapToInt(Integer::intValue).sum(), "the small service's pages " + small);
        assertTrue(small.size() <= 2, "the small service's pages " + small);

        List<Integer> pages = new ArrayList<>();
        await(b.readPages(large, kvs -> pages.add(kvs.size())));
        assertEquals(n, pages.stream().mapToInt(Integer::intValue).sum(), "pages " + pages);
        // The estimate came down by a sixteenth per small page read since the large one.
        long firstAtMost = (long) (EtcdBackend.READ_PAGE_BYTES / (mean * Math.pow(15.0 / 16, small.size()))) + 1;
        assertTrue(pages.get(0) <= firstAtMost, "first page " + pages + ", at most " + firstAtMost);
        long laterAtMost = EtcdBackend.READ_PAGE_BYTES / mean;
        assertTrue(pages.subList(1, pages.size()).stream().allMatch(k -> k <= laterAtMost), "pages " + pages + ", at most " + laterAtMost);
        assertEquals(3, pages.size(), "pages " + pages);
    }

    /**
     * A burst of subscribers (clients reconnecting after a daemon restart) shares its barrier reads:
     * far fewer reads than subscribers, and each still gets the snapshot.
     */
    @Test
    void aBurstOfSubscribers_sharesItsBarrierReads() throws Exception {
        EtcdBackend b = etcdBackend();
        await(b.register("burst", "b:1", null));
        RecordingListener first = new RecordingListener();
        b.subscribe("burst", first);
        assertEquals(Set.of("b:1"), snapshotAddrs(first));

        long before = b.serviceReads.get();
        java.util.List<RecordingListener> burst = new java.util.ArrayList<>();
        for (int i = 0; i < 300; i++) {
            RecordingListener l = new RecordingListener();
            burst.add(l);
            b.subscribe("burst", l);
        }
        for (RecordingListener l : burst) {
            assertEquals(Set.of("b:1"), snapshotAddrs(l));
            l.assertNoViolations();
        }
        long reads = b.serviceReads.get() - before;
        assertTrue(reads < 30, reads + " reads of the service for 300 subscribers");
    }

    /**
     * A Register through a daemon that watches the service answers only once the daemon's view has
     * applied it: its subscribers have the change no later than the writer has its reply.
     */
    @Test
    void aRegisterAnswers_afterTheDaemonsSubscribersHaveTheChange() throws Exception {
        EtcdBackend b = etcdBackend();
        RecordingListener l = new RecordingListener();
        b.subscribe("seen", l);
        l.awaitCurrent(TIMEOUT);
        for (int i = 0; i < 20; i++) {
            String addr = "s:" + i;
            await(b.register("seen", addr, Map.of("v", "" + i)));
            assertTrue(l.sawLive(addr), addr + " was not delivered before its Register answered");
            await(b.register("seen", addr, Map.of("v", "changed")));
            assertTrue(l.live().stream().anyMatch(e -> e.addr().equals(addr) && "changed".equals(e.attrs().get("v"))),
                    addr + "'s new attrs were not delivered before the Register answered");
        }
        l.assertNoViolations();
    }

    @Test
    void lingeringView_closesAfterItsTime_andOnBackendClose() throws Exception {
        EtcdBackend b = etcdBackend();
        b.setViewLinger(Duration.ofMillis(300));
        RecordingListener l = new RecordingListener();
        Subscription sub = b.subscribe("short", l);
        l.awaitCurrent(TIMEOUT);
        sub.close();
        assertEquals(Set.of("short"), b.openViews());
        EtcdTests.waitFor(TIMEOUT, "the lingering view closed", () -> b.openViews().isEmpty());

        b.setViewLinger(Duration.ofHours(1));
        RecordingListener l2 = new RecordingListener();
        Subscription sub2 = b.subscribe("long", l2);
        l2.awaitCurrent(TIMEOUT);
        sub2.close();
        assertEquals(Set.of("long"), b.openViews());
        await(b.close());
        assertEquals(Set.of(), b.openViews(), "the backend's close closes lingering views");
    }

    @Test
    void subscribeAfterWritesThroughAnotherDaemon_seesThem_withALingeringView() throws Exception {
        EtcdBackend a = etcdBackend();
        EtcdBackend other = etcdBackend();
        await(other.register("ryw", "r:base", Map.of("v", "-1")));
        for (int i = 0; i < 30; i++) {
            await(other.register("ryw", "r:" + i, null));
            await(other.register("ryw", "r:base", Map.of("v", "" + i)));
            if (i > 0) {
                await(other.unregister("ryw", "r:" + (i - 1)));
            }
            RecordingListener l = new RecordingListener();
            Subscription sub = a.subscribe("ryw", l);
            l.awaitCurrent(TIMEOUT);
            Map<String, RecordingListener.Event> snap = l.snapshotByAddr();
            sub.close();
            assertEquals(Set.of("r:base", "r:" + i), snap.keySet(), "iteration " + i);
            assertEquals(Map.of("v", "" + i), snap.get("r:base").attrs(), "iteration " + i);
            l.assertNoViolations();
        }
        assertEquals(Set.of("ryw"), a.openViews());
    }
}
