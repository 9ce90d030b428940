package io.discoverd.backend.zookeeper;

import static io.discoverd.backend.zookeeper.ZooKeeperTestSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.backend.Registration.Outcome;
import io.discoverd.backend.Subscription;
import io.discoverd.backend.contract.RecordingListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.curator.drivers.TracerDriver;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * Subscription snapshots on ZooKeeper: a view lingers after its last subscriber so that a
 * resubscription is served from memory, a subscriber of an open view is not served by reading every
 * instance again, and neither costs read-your-writes through another daemon. Also the service
 * directories created once per service, and again after the server deleted them.
 */
class ServiceSnapshotTest extends ZooKeeperTestBase {

    /** Counts Curator's background getData calls of a client. */
    private static AtomicInteger countGetData(CuratorFramework client) {
        return countCalls(client, "GetDataBuilderImpl");
    }

    /** Counts a client's calls whose Curator trace name starts with {@code builder}, e.g. {@code SyncBuilderImpl}. */
    private static AtomicInteger countCalls(CuratorFramework client, String builder) {
        AtomicInteger n = new AtomicInteger();
        client.getZookeeperClient().setTracerDriver(new TracerDriver() {
            @Override
            public void addTrace(String name, long time, TimeUnit unit) {
                if (name.startsWith(builder)) {
                    n.incrementAndGet();
                }
            }

            @Override
            public void addCount(String name, int increment) {
            }
        });
        return n;
    }

    private static Set<String> snapshotAddrs(RecordingListener l) {
        return l.awaitCurrent(TIMEOUT).stream().map(RecordingListener.Event::addr).collect(Collectors.toSet());
    }

    @Test
    void resubscribeWithinTheLinger_isServedByTheOpenView_withoutReadingInstanceData() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend b = daemon(s, Duration.ofSeconds(30));
        List<CompletableFuture<?>> regs = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            regs.add(b.register("many", "m:" + i, Map.of("i", "" + i)).toCompletableFuture());
        }
        await(CompletableFuture.allOf(regs.toArray(CompletableFuture[]::new)));
        RecordingListener first = new RecordingListener();
        Subscription sub = b.subscribe("many", first);
        assertEquals(100, snapshotAddrs(first).size());
        sub.close();
        assertEquals(1, b.openViews(), "the view lingers");

        AtomicInteger reads = countGetData(b.client());
        RecordingListener again = new RecordingListener();
        Subscription second = b.subscribe("many", again);
        assertEquals(100, snapshotAddrs(again).size());
        second.close();
        // A barrier that reads the service would read the 100 instance nodes.
        assertTrue(reads.get() < 10, "instance reads for the resubscription: " + reads.get());
        again.assertNoViolations();
    }

    /**
     * A burst of subscribers (clients reconnecting after a daemon restart) shares its read-your-writes
     * markers: far fewer syncs than subscribers, and each still gets the snapshot.
     */
    @Test
    void aBurstOfSubscribers_sharesItsMarkers() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend b = daemon(s, Duration.ofSeconds(30));
        await(b.register("burst", "b:1", null));
        RecordingListener first = new RecordingListener();
        b.subscribe("burst", first);
        assertEquals(Set.of("b:1"), snapshotAddrs(first));

        AtomicInteger syncs = countCalls(b.client(), "SyncBuilderImpl");
        List<RecordingListener> burst = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            RecordingListener l = new RecordingListener();
            burst.add(l);
            b.subscribe("burst", l);
        }
        for (RecordingListener l : burst) {
            assertEquals(Set.of("b:1"), snapshotAddrs(l));
            l.assertNoViolations();
        }
        assertTrue(syncs.get() < 30, syncs.get() + " syncs for 300 subscribers");
    }

    @Test
    void lingeringView_closesAfterItsTime_andOnBackendClose() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend b = daemon(s, Duration.ofSeconds(30));
        b.setViewLinger(Duration.ofMillis(300));
        await(b.register("short", "s:1", null));
        RecordingListener l = new RecordingListener();
        Subscription sub = b.subscribe("short", l);
        l.awaitCurrent(TIMEOUT);
        sub.close();
        assertEquals(1, b.openViews());
        waitFor(TIMEOUT, "the lingering view closed", () -> b.openViews() == 0);

        b.setViewLinger(Duration.ofHours(1));
        RecordingListener l2 = new RecordingListener();
        Subscription sub2 = b.subscribe("long", l2);
        l2.awaitCurrent(TIMEOUT);
        sub2.close();
        assertEquals(1, b.openViews());
        await(b.close());
        assertEquals(0, b.openViews(), "the backend's close closes lingering views");
    }

    @Test
    void subscribeAfterWritesThroughAnotherDaemon_seesThem_withAnAttachedOrALingeringView() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend a = daemon(s, Duration.ofSeconds(30));
        ZooKeeperBackend other = daemon(s, Duration.ofSeconds(30));
        await(other.register("ryw", "r:base", Map.of("v", "-1")));
        RecordingListener held = new RecordingListener();
        Subscription holder = a.subscribe("ryw", held);
        held.awaitCurrent(TIMEOUT);
        for (int i = 0; i < 40; i++) {
            if (i == 20) {
                holder.close(); // from now on the view only lingers between subscriptions
            }
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
        assertEquals(1, a.openViews());
    }

    @Test
    void serviceDirectories_registersAfterTheServerDeletedThem_createThemAgain() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend b = daemon(s, Duration.ofSeconds(30));
        CuratorFramework raw = rawClient(s.getConnectString());
        // A subscription keeps the service's state (and its ensured directories) in the backend.
        RecordingListener l = new RecordingListener();
        b.subscribe("gone", l);
        l.awaitCurrent(TIMEOUT);
        assertEquals(Outcome.CREATED, await(b.register("gone", "g:0", null)).outcome());
        // Not the session's: containers (clients see no owner; the server deletes them once empty).
        assertEquals(0, raw.checkExists().forPath(SERVICE).getEphemeralOwner());
        assertEquals(0, raw.checkExists().forPath(LEADERS).getEphemeralOwner());
        // What the server's container reaper does to empty containers: both, then each alone.
        List<List<String>> deletions = List.of(List.of(SERVICE, LEADERS), List.of(SERVICE), List.of(LEADERS));
        for (int i = 0; i < deletions.size(); i++) {
            await(b.unregister("gone", "g:" + i));
            waitFor(TIMEOUT, "the participant deleted", () -> children(raw, LEADERS).isEmpty());
            for (String dir : deletions.get(i)) {
                raw.delete().forPath(dir);
            }
            String addr = "g:" + (i + 1);
            assertEquals(Outcome.CREATED, await(b.register("gone", addr, null)).outcome(), addr);
            assertNotNull(raw.checkExists().forPath(SERVICE + "/" + addr));
            assertEquals(1, children(raw, LEADERS).size());
            l.awaitOnline(TIMEOUT, addr);
        }
        l.assertNoViolations();
    }

    private static final String SERVICE = "/discoverd/services/gone";
    private static final String LEADERS = "/discoverd/leaders/gone";

    private static List<String> children(CuratorFramework raw, String path) {
        try {
            return raw.getChildren().forPath(path);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
