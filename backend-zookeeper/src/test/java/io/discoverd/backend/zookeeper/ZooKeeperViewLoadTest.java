package io.discoverd.backend.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.backend.contract.RecordingListener;
import io.discoverd.backend.contract.RecordingListener.Event;
import io.discoverd.backend.contract.RecordingListener.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;
import org.junit.jupiter.api.Test;

/**
 * How a view reads its service: the first subscriber of a big service gets every instance from
 * read-only multis (a few requests, not one per node), and the view follows the store through its
 * persistent recursive watch, also when a transaction deletes and creates a node at once.
 */
class ZooKeeperViewLoadTest extends ZooKeeperTestBase {

    private static final String DIR = "/discoverd/services/";

    /** The addresses {@link #createInstances} gives its {@code n} nodes, in order. */
    private static List<String> addrs(int n) {
        List<String> addrs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            addrs.add("10.0.0." + i + ":80");
        }
        return addrs;
    }

    /** What {@link AsyncZk#readChildren} handed over: every read, and the size of each answer, in order. */
    private record Answers(List<AsyncZk.ChildRead> reads, List<Integer> sizes) {
    }

    private static Answers readAll(AsyncZk zk, String service, List<String> names) throws Exception {
        List<AsyncZk.ChildRead> reads = Collections.synchronizedList(new ArrayList<>());
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        await(zk.readChildren(DIR + service, names, answer -> {
            sizes.add(answer.size());
            reads.addAll(answer);
        }));
        return new Answers(reads, sizes);
    }

    /** Creates {@code n} instance nodes {@code 10.0.0.<i>:80} of {@code service} directly, in transactions. */
    private static void createInstances(CuratorFramework raw, String service, int n) throws Exception {
        raw.create().creatingParentsIfNeeded().forPath(DIR + service);
        List<CuratorOp> ops = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ops.add(raw.transactionOp().create().withMode(CreateMode.EPHEMERAL)
                    .forPath(DIR + service + "/10.0.0." + i + ":80", new StoredInstance(Map.of("i", "" + i), 1000 + i).toBytes()));
            if (ops.size() == 100 || i == n - 1) {
                raw.transaction().forOperations(ops);
                ops.clear();
            }
        }
    }

    @Test
    void firstSubscriberOfABigService_getsEveryInstance_fromAFewRequests() throws Exception {
        TestingServer s = server();
        CuratorFramework raw = rawClient(s.getConnectString());
        int n = 300;
        createInstances(raw, "big", n);
        ZooKeeperBackend b = daemon(s, Duration.ofSeconds(30));

        long before = packetsReceived(s);
        RecordingListener l = new RecordingListener();
        b.subscribe("big", l);
        l.awaitCurrent(TIMEOUT);
        long requests = packetsReceived(s) - before;

        Map<String, Event> snapshot = l.snapshotByAddr();
        assertEquals(n, snapshot.size());
        Event e = snapshot.get("10.0.0.7:80");
        assertEquals(Map.of("i", "7"), e.attrs());
        assertEquals(1007, e.created());
        // The watch, the listing, ceil(300 / 64) = 5 multis, the barrier's sync and exists, maybe a ping:
        // one read per node would be 300 or more.
        assertTrue(requests <= 15, requests + " requests for the first snapshot of " + n + " instances");
        l.assertNoViolations();
    }

    @Test
    void readChildren_answersEachNode_andAGoneOneAsNoNode_acrossChunks() throws Exception {
        TestingServer s = server();
        CuratorFramework raw = rawClient(s.getConnectString());
        int n = AsyncZk.READ_CHUNK + 10;
        createInstances(raw, "rc", n);
        List<String> names = addrs(n);
        names.add(3, "gone:1");

        Answers answers = readAll(new AsyncZk(raw), "rc", names);
        List<AsyncZk.ChildRead> reads = answers.reads();
        assertEquals(List.of(AsyncZk.READ_CHUNK, 11), answers.sizes(), "one answer per multi, in order");
        assertEquals(names, reads.stream().map(AsyncZk.ChildRead::child).toList());
        assertEquals(Code.NONODE, reads.get(3).code());
        assertNull(reads.get(3).stat());
        AsyncZk.ChildRead last = reads.get(reads.size() - 1);
        assertEquals(Code.OK, last.code());
        assertEquals(1000 + n - 1, StoredInstance.parse(last.data()).created());
    }

    @Test
    void deleteAndCreateInOneTransaction_leavesTheNewIncarnationOnline() throws Exception {
        TestingServer s = server();
        CuratorFramework raw = rawClient(s.getConnectString());
        createInstances(raw, "tx", 2);
        ZooKeeperBackend b = daemon(s, Duration.ofSeconds(30));
        RecordingListener l = new RecordingListener();
        b.subscribe("tx", l);
        assertEquals(2, l.awaitCurrent(TIMEOUT).size());

        String path = DIR + "tx/10.0.0.0:80";
        raw.transaction().forOperations(
                raw.transactionOp().delete().forPath(path),
                raw.transactionOp().create().withMode(CreateMode.EPHEMERAL)
                        .forPath(path, new StoredInstance(Map.of("v", "2"), 5000).toBytes()));

        // The delete must not bury the node created in the same transaction.
        Event online = l.awaitLive(TIMEOUT, "the new incarnation", e -> e.kind() == Kind.ONLINE && e.created() == 5000);
        assertEquals(Map.of("v", "2"), online.attrs());
        RecordingListener late = new RecordingListener();
        b.subscribe("tx", late);
        late.awaitCurrent(TIMEOUT);
        assertEquals(5000, late.snapshotByAddr().get("10.0.0.0:80").created());
        assertEquals(2, late.snapshotByAddr().size());
        l.assertNoViolations();
    }

    @Test
    void afterASessionExpiry_theViewReadsTheServiceAgainOnceItsWatchIsBack_andFollowsIt() throws Exception {
        TestingServer s = server();
        CuratorFramework raw = rawClient(s.getConnectString());
        createInstances(raw, "ex", 1);
        ZooKeeperBackend b = daemon(s, Duration.ofSeconds(30));
        RecordingListener l = new RecordingListener();
        b.subscribe("ex", l);
        assertEquals(1, l.awaitCurrent(TIMEOUT).size());
        long session = b.client().getZookeeperClient().getZooKeeper().getSessionId();

        b.client().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        // Made while the daemon has no session (or no watch yet): only a read after the watch is back finds it.
        raw.create().withMode(CreateMode.EPHEMERAL).forPath(DIR + "ex/gap:1", new StoredInstance(null, 7).toBytes());
        l.awaitOnline(TIMEOUT, "gap:1");
        assertTrue(b.client().getZookeeperClient().getZooKeeper().getSessionId() != session, "a new session");

        raw.create().withMode(CreateMode.EPHEMERAL).forPath(DIR + "ex/after:1", new StoredInstance(null, 8).toBytes());
        l.awaitOnline(TIMEOUT, "after:1");
        raw.delete().forPath(DIR + "ex/gap:1");
        l.awaitOffline(TIMEOUT, "gap:1");
        l.assertNoViolations();
    }

    @Test
    void readChildren_oneNodeAtATime_handsOverTheSameReads() throws Exception {
        TestingServer s = server();
        CuratorFramework raw = rawClient(s.getConnectString());
        int n = AsyncZk.READ_CHUNK + 3;
        createInstances(raw, "one", n);
        List<String> names = addrs(n);
        AsyncZk zk = new AsyncZk(raw);
        zk.disableMultiReads();
        Answers answers = readAll(zk, "one", names);
        assertEquals(n, answers.reads().size());
        assertTrue(answers.sizes().stream().allMatch(k -> k == 1), "each read handed over as it arrives: " + answers.sizes());
        assertTrue(answers.reads().stream().allMatch(r -> r.code() == Code.OK));
    }
}
