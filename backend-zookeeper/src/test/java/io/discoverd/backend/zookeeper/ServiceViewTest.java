package io.discoverd.backend.zookeeper;

import io.discoverd.backend.GuardedSubscription;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.google.common.util.concurrent.MoreExecutors;
import io.discoverd.backend.contract.RecordingListener;
import io.discoverd.backend.contract.RecordingListener.Kind;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ServiceView}'s ordering rules driven directly (on its executor, as the backend does):
 * late information about a deleted incarnation never resurrects it, and tombstones are dropped once
 * nothing can still deliver such information.
 */
class ServiceViewTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private TestingServer server;
    private CuratorFramework client;
    private ExecutorService pool;
    private Executor executor;
    private ServiceView view;
    private RecordingListener listener;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(-1, true);
        client = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        client.start();
        pool = Executors.newCachedThreadPool();
        executor = MoreExecutors.newSequentialExecutor(pool);
        view = on(() -> new ServiceView("v", "/discoverd/services/v", client, new AsyncZk(client), executor, v -> { }));
        listener = subscribe();
    }

    /** A new subscriber, attached as the backend attaches one, once its snapshot has come. */
    private RecordingListener subscribe() throws Exception {
        RecordingListener l = new RecordingListener();
        GuardedSubscription sub = new GuardedSubscription("v", l, x -> { });
        on(() -> {
            view.addPending(sub);
            view.attach(sub);
            return null;
        });
        l.awaitCurrent(TIMEOUT);
        return l;
    }

    @AfterEach
    void stop() throws Exception {
        on(() -> {
            view.close();
            return null;
        });
        client.close();
        server.close();
        pool.shutdown();
    }

    private <T> T on(Supplier<T> task) throws Exception {
        return CompletableFuture.supplyAsync(task, executor).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static Stat stat(long czxid, long mzxid) {
        Stat s = new Stat();
        s.setCzxid(czxid);
        s.setMzxid(mzxid);
        return s;
    }

    private static byte[] data(long created) {
        return data(null, created);
    }

    private static byte[] data(Map<String, String> attrs, long created) {
        return new StoredInstance(attrs, created).toBytes();
    }

    private List<Kind> liveKinds() {
        return listener.live().stream().map(RecordingListener.Event::kind).toList();
    }

    /**
     * Waits until the prunes queued so far have run: each waits for the answer of a request, handed
     * from the event thread to the executor; a later request's answer is handed over after it.
     */
    private void drainPrunes() throws Exception {
        for (int i = 0; i < 3; i++) {
            CompletableFuture<Void> hop = new CompletableFuture<>();
            client.checkExists().inBackground((c, e) -> executor.execute(() -> hop.complete(null))).forPath("/");
            hop.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Test
    void lateEventOfDeletedIncarnation_isIgnored_thenTombstoneIsPruned() throws Exception {
        on(() -> {
            view.observed("a:1", stat(5, 5), data(5));
            view.deleted("a:1", 5);
            view.observed("a:1", stat(5, 6), data(5)); // a late change of the deleted incarnation
            return null;
        });
        assertEquals(List.of(Kind.ONLINE, Kind.OFFLINE), liveKinds());
        drainPrunes();
        assertEquals(0, (int) on(view::tombstoneCount));
    }

    @Test
    void newerIncarnation_supersedesTheTombstoneAtOnce_andOlderOnesStayOut() throws Exception {
        int count = on(() -> {
            view.observed("a:1", stat(5, 5), data(5));
            view.deleted("a:1", 5);
            view.observed("a:1", stat(9, 9), data(9));
            int c = view.tombstoneCount();
            view.observed("a:1", stat(5, 7), data(5)); // the old incarnation, late: the entry (czxid 9) keeps it out
            return c;
        });
        assertEquals(0, count);
        assertEquals(List.of(Kind.ONLINE, Kind.OFFLINE, Kind.ONLINE), liveKinds());
    }

    @Test
    void barrierStartedBeforeADeletion_pinsItsTombstoneUntilItEnds() throws Exception {
        long token = on(() -> {
            long t = view.barrierStarted();
            view.observed("b:1", stat(7, 7), data(7));
            view.deleted("b:1", 7);
            return t;
        });
        drainPrunes();
        assertEquals(1, (int) on(view::tombstoneCount), "the barrier may still hold a read from before the deletion");
        on(() -> {
            view.observed("b:1", stat(7, 7), data(7)); // that stale read, applied at the barrier's end
            view.barrierEnded(token);
            return null;
        });
        drainPrunes();
        assertEquals(0, (int) on(view::tombstoneCount));
        assertEquals(List.of(Kind.ONLINE, Kind.OFFLINE), liveKinds());
    }

    @Test
    void barrierStartedAfterADeletion_doesNotPinIt() throws Exception {
        on(() -> {
            view.observed("c:1", stat(3, 3), data(3));
            view.deleted("c:1", 3);
            view.barrierStarted(); // never ended here
            return null;
        });
        drainPrunes();
        assertEquals(0, (int) on(view::tombstoneCount));
    }

    @Test
    void deleteEvent_deletesTheIncarnationHeld() throws Exception {
        on(() -> {
            view.observed("e:1", stat(6, 6), data(6));
            view.deletedByEvent("e:1");
            view.observed("e:1", stat(6, 7), data(6)); // a late read of the deleted incarnation
            view.deletedByEvent("f:1"); // nothing held: nothing to do
            return null;
        });
        assertEquals(List.of(Kind.ONLINE, Kind.OFFLINE), liveKinds());
    }

    /**
     * An observation emits online only when the instance's attributes or {@code Created} differ from
     * what the view holds (nil and empty attributes differ); a newer read of the same content emits
     * nothing. A later subscriber's snapshot hands out the very instances the view emitted last (their
     * attribute maps are the same objects), not copies.
     */
    @Test
    void observations_emitOnlyChanges_andASnapshotHandsOutTheInstancesHeld() throws Exception {
        on(() -> {
            view.observed("g:1", stat(8, 8), data(Map.of("v", "1"), 8));
            view.observed("g:1", stat(8, 9), data(Map.of("v", "1"), 8)); // same content, newer mzxid
            view.observed("h:1", stat(10, 10), data(null, 10));
            view.observed("h:1", stat(10, 11), data(Map.of(), 10)); // nil -> empty
            view.observed("h:1", stat(10, 12), data(Map.of(), 11)); // another Created
            return null;
        });
        List<RecordingListener.Event> live = listener.live();
        assertEquals(List.of(Kind.ONLINE, Kind.ONLINE, Kind.ONLINE, Kind.ONLINE), liveKinds(), live.toString());
        assertNull(live.get(1).attrs());
        assertEquals(Map.of(), live.get(2).attrs());
        assertEquals(11, live.get(3).created());

        Map<String, RecordingListener.Event> snapshot = subscribe().snapshotByAddr();
        assertEquals(2, snapshot.size(), snapshot.toString());
        assertSame(live.get(0).attrs(), snapshot.get("g:1").attrs());
        assertSame(live.get(3).attrs(), snapshot.get("h:1").attrs());
        assertEquals(11, snapshot.get("h:1").created());
    }
}
