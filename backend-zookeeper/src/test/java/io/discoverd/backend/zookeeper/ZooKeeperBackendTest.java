package io.discoverd.backend.zookeeper;

import static io.discoverd.backend.zookeeper.ZooKeeperTestSupport.connected;
import static io.discoverd.backend.zookeeper.ZooKeeperTestSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Registration;
import io.discoverd.backend.Registration.Outcome;
import io.discoverd.backend.contract.RecordingListener;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ZooKeeper-specific behaviour beyond the contract suite: store layout, latches, outages, subscriptions across a restart. */
class ZooKeeperBackendTest extends ZooKeeperTestBase {

    @TempDir
    Path dataDir;

    /** A data directory of its own for each backend (one per daemon: each records its own session). */
    private Path dir() {
        try {
            return java.nio.file.Files.createTempDirectory(dataDir, "daemon");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private DiscoveryBackend backend(TestingServer s, Duration ttl) {
        DiscoveryBackend b = connected(vertx, s.getConnectString(), ttl, dir());
        backends.add(b);
        return b;
    }

    private static Throwable failure(java.util.concurrent.CompletionStage<?> st, Duration within) throws Exception {
        try {
            st.toCompletableFuture().get(within.toMillis(), TimeUnit.MILLISECONDS);
            return fail("expected a failure");
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    @Test
    void storeLayout_instanceNodeIsEphemeralJsonWithCreatedEqualToItsLatchNodeCzxid() throws Exception {
        TestingServer s = server();
        DiscoveryBackend b = backend(s, Duration.ofSeconds(30));
        long c1 = await(b.register("web", "10.0.0.1:80", Map.of("a", "b"))).instance().created();
        long c2 = await(b.register("web", "10.0.0.2:80", null)).instance().created();
        CuratorFramework raw = rawClient(s.getConnectString());
        ObjectMapper json = new ObjectMapper();

        Stat stat = new Stat();
        byte[] data = raw.getData().storingStatIn(stat).forPath("/discoverd/services/web/10.0.0.1:80");
        assertEquals("{\"attrs\":{\"a\":\"b\"},\"created\":" + c1 + "}", new String(data, StandardCharsets.UTF_8));
        assertNotEquals(0, stat.getEphemeralOwner(), "instance nodes are ephemeral");
        JsonNode nil = json.readTree(raw.getData().forPath("/discoverd/services/web/10.0.0.2:80"));
        assertTrue(nil.has("attrs") && nil.get("attrs").isNull(), nil.toString());
        assertEquals(c2, nil.get("created").asLong());

        Map<String, Long> latchCzxidById = new java.util.HashMap<>();
        for (String child : raw.getChildren().forPath("/discoverd/leaders/web")) {
            Stat ls = new Stat();
            String id = new String(raw.getData().storingStatIn(ls).forPath("/discoverd/leaders/web/" + child), StandardCharsets.UTF_8);
            assertTrue(child.contains("-latch-"), child);
            assertNotEquals(0, ls.getEphemeralOwner());
            latchCzxidById.put(id, ls.getCzxid());
        }
        assertEquals(Map.of("10.0.0.1:80", c1, "10.0.0.2:80", c2), latchCzxidById);

        await(b.unregister("web", "10.0.0.1:80"));
        waitFor(TIMEOUT, "latch participant removed", () -> {
            try {
                return raw.getChildren().forPath("/discoverd/leaders/web").size() == 1;
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    void unregisterThroughNonOwner_deletesTheNode_ownerForgetsItAndDeletesItsParticipant() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend owner = (ZooKeeperBackend) backend(s, Duration.ofSeconds(30));
        DiscoveryBackend other = backend(s, Duration.ofSeconds(30));
        await(owner.register("nu", "u:1", null));
        long c2 = await(owner.register("nu", "u:2", null)).instance().created();
        await(other.unregister("nu", "u:1"));
        CuratorFramework raw = rawClient(s.getConnectString());
        assertEquals(null, raw.checkExists().forPath("/discoverd/services/nu/u:1"));
        waitFor(TIMEOUT, "only u:2's participant left", () -> {
            try {
                List<String> children = raw.getChildren().forPath("/discoverd/leaders/nu");
                return children.size() == 1
                        && raw.checkExists().forPath("/discoverd/leaders/nu/" + children.get(0)).getCzxid() == c2;
            } catch (Exception e) {
                return false;
            }
        });
        waitFor(TIMEOUT, "the owner forgot u:1", () -> owner.latchLeadership("nu", "u:1").isEmpty());
        waitFor(TIMEOUT, "u:2 leads its latch", () -> owner.latchLeadership("nu", "u:2").orElse(false));
        // Forgotten, so a heartbeat at the former owner registers it anew instead of refreshing a ghost.
        assertEquals(Outcome.CREATED, await(owner.register("nu", "u:1", null)).outcome());
    }

    @Test
    void latchLeader_isTheInstanceWithTheSmallestCreated() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend b = (ZooKeeperBackend) backend(s, Duration.ofSeconds(30));
        List<Registration> regs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            regs.add(await(b.register("svc", "h:" + i, null)));
        }
        for (int round = 0; round < 3; round++) {
            String expected = regs.get(round).instance().addr();
            assertEquals(expected, await(b.leader("svc")).orElseThrow().addr());
            waitFor(TIMEOUT, "latch leadership of " + expected,
                    () -> b.latchLeadership("svc", expected).orElse(false));
            for (Registration r : regs.subList(round + 1, regs.size())) {
                assertEquals(Optional.of(false), b.latchLeadership("svc", r.instance().addr()), r.toString());
            }
            await(b.unregister("svc", expected));
        }
    }

    @Test
    void manyDeadlines_shareOneTimerTask_andEachInstanceStillExpiresOnTime() throws Exception {
        TestingServer s = server();
        Duration ttl = Duration.ofMillis(1500);
        ZooKeeperBackend b = (ZooKeeperBackend) backend(s, ttl);
        RecordingListener l = new RecordingListener();
        b.subscribe("sweep", l);
        waitFor(TIMEOUT, "sentinel", () -> l.snapshot() != null);
        Map<String, Long> registeredAt = new java.util.HashMap<>();
        for (int i = 0; i < 20; i++) {
            registeredAt.put("s:" + i, System.nanoTime());
            await(b.register("sweep", "s:" + i, null));
        }
        // One sweep armed for the earliest deadline, not a scheduled task per instance.
        assertTrue(b.pendingTimerTasks() <= 2, "timer tasks: " + b.pendingTimerTasks());
        // A heartbeat moves s:0's deadline: it must outlive the others.
        long beatAt = System.nanoTime();
        await(b.register("sweep", "s:0", null));
        registeredAt.put("s:0", beatAt);
        waitFor(TIMEOUT, "all 20 offline", () -> l.live().stream().filter(e -> e.kind() == RecordingListener.Kind.OFFLINE).count() == 20);
        List<RecordingListener.Event> offline = l.live().stream().filter(e -> e.kind() == RecordingListener.Kind.OFFLINE).toList();
        for (RecordingListener.Event e : offline) {
            long after = e.atNanos() - registeredAt.get(e.addr());
            assertTrue(after >= ttl.toNanos(), e.addr() + " expired " + (ttl.toNanos() - after) / 1_000_000 + " ms early");
            assertTrue(after < ttl.toNanos() + TimeUnit.SECONDS.toNanos(1), e.addr() + " expired " + after / 1_000_000 + " ms after registering");
        }
        assertEquals("s:0", offline.get(offline.size() - 1).addr(), "the instance heartbeaten last expires last");
    }

    @Test
    void registration_holdsNoLeaderLatchObject_andItsParticipantQueuesWithCuratorLatches() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend b = (ZooKeeperBackend) backend(s, Duration.ofSeconds(30));
        // Warm up, so that only per-registration listeners would show below.
        await(b.register("q", "q:warm", null));
        int listeners = ((org.apache.curator.framework.listen.ListenerManager<?, ?>) b.client().getConnectionStateListenable()).size();
        long first = await(b.register("q", "q:1", null)).instance().created();
        for (int i = 2; i <= 10; i++) {
            await(b.register("q", "q:" + i, null));
        }
        // A started LeaderLatch adds a connection-state listener (and ~1 KB of heap, and a thread at start).
        assertEquals(listeners, ((org.apache.curator.framework.listen.ListenerManager<?, ?>) b.client().getConnectionStateListenable()).size());
        await(b.unregister("q", "q:warm"));
        // A Curator LeaderLatch of another client sees the participants and the same leader.
        CuratorFramework raw = rawClient(s.getConnectString());
        try (org.apache.curator.framework.recipes.leader.LeaderLatch latch =
                     new org.apache.curator.framework.recipes.leader.LeaderLatch(raw, "/discoverd/leaders/q", "outsider")) {
            latch.start();
            waitFor(TIMEOUT, "outsider queued", () -> {
                try {
                    return latch.getParticipants().size() == 11;
                } catch (Exception e) {
                    return false;
                }
            });
            assertEquals("q:1", latch.getLeader().getId());
            assertEquals("q:1", await(b.leader("q")).orElseThrow().addr());
            assertEquals(first, await(b.leader("q")).orElseThrow().created());
            assertFalse(latch.hasLeadership());
        }
    }

    @Test
    void storeDownAtStart_writesFailFastWithStoreUnavailable_thenRecoverWhenItStarts() throws Exception {
        int port = ZooKeeperTestSupport.freePort();
        TestingServer s = new TestingServer(port, false);
        closeables.add(s);
        String connect = "127.0.0.1:" + port;
        DiscoveryBackend b = ZooKeeperTestSupport.create(vertx,
                new JsonObject().put("connect", connect).put("connectionTimeout", "2s"), Duration.ofSeconds(30), dir());
        backends.add(b);
        assertFalse(b.isConnected());
        long t0 = System.nanoTime();
        Throwable t = failure(b.register("web", "1.2.3.4:5", null), Duration.ofMillis(500));
        assertInstanceOf(DiscoveryException.StoreUnavailable.class, t);
        assertTrue(t.getMessage().startsWith("discoverd: store unavailable: ") && t.getMessage().contains(connect), t.getMessage());
        assertInstanceOf(DiscoveryException.StoreUnavailable.class, failure(b.unregister("web", "1.2.3.4:5"), Duration.ofMillis(500)));
        assertTrue(System.nanoTime() - t0 < Duration.ofMillis(500).toNanos(), "fails fast");
        RecordingListener early = new RecordingListener();
        b.subscribe("web", early);
        assertSentinelThenStoreUnavailable(early, Duration.ofMillis(500), connect);

        s.start();
        waitFor(Duration.ofSeconds(15), "connected", b::isConnected);
        assertEquals(Outcome.CREATED, await(b.register("web", "1.2.3.4:5", null)).outcome());
        RecordingListener l = new RecordingListener();
        b.subscribe("web", l);
        assertEquals(java.util.Set.of("1.2.3.4:5"), l.awaitCurrent(TIMEOUT).stream().map(e -> e.addr()).collect(java.util.stream.Collectors.toSet()));
    }

    /** Waits for exactly current() then failed(StoreUnavailable naming {@code connect}) and nothing else. */
    private static void assertSentinelThenStoreUnavailable(RecordingListener l, Duration within, String connect) {
        List<RecordingListener.Event> evs = l.awaitUntil(within, "current() then failed()",
                e -> e.stream().anyMatch(x -> x.kind() == RecordingListener.Kind.FAILED));
        assertEquals(List.of(RecordingListener.Kind.CURRENT, RecordingListener.Kind.FAILED),
                evs.stream().map(RecordingListener.Event::kind).toList(), evs.toString());
        String message = evs.get(1).addr(); // RecordingListener keeps failed()'s message there
        assertTrue(message.startsWith("discoverd: store unavailable: zookeeper ") && message.contains(connect), message);
    }

    @Test
    void storeStopped_newSubscribeGetsSentinelThenStoreUnavailable_leaderFailsFast_attachedSubscriptionResumes() throws Exception {
        TestingServer s = server();
        DiscoveryBackend b = ZooKeeperTestSupport.create(vertx, new JsonObject().put("connect", s.getConnectString())
                .put("connectionTimeout", "2s").put("sessionTimeout", "10s"), Duration.ofSeconds(30), dir());
        backends.add(b);
        waitFor(TIMEOUT, "connected", b::isConnected);
        await(b.register("down", "d:1", null));
        RecordingListener attached = new RecordingListener();
        b.subscribe("down", attached);
        attached.awaitCurrent(TIMEOUT);

        s.stop();
        waitFor(TIMEOUT, "disconnected", () -> !b.isConnected());
        long t0 = System.nanoTime();
        RecordingListener l = new RecordingListener();
        b.subscribe("down", l);
        RecordingListener other = new RecordingListener(); // a service without a view yet
        b.subscribe("down-other", other);
        // connectionTimeout (2 s) + 1 s is the bound; failing at once is what happens while disconnected.
        assertSentinelThenStoreUnavailable(l, Duration.ofSeconds(3), s.getConnectString());
        assertSentinelThenStoreUnavailable(other, Duration.ofSeconds(3), s.getConnectString());
        Throwable t = failure(b.leader("down"), Duration.ofMillis(500));
        assertInstanceOf(DiscoveryException.StoreUnavailable.class, t);
        assertTrue(t.getMessage().contains(s.getConnectString()), t.getMessage());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(3).toNanos(), "within connectionTimeout + 1 s");
        assertEquals(List.of(), attached.live(), "the attached subscription stays open and silent");

        s.restart();
        waitFor(Duration.ofSeconds(15), "reconnected", b::isConnected);
        await(b.register("down", "d:2", null));
        RecordingListener after = new RecordingListener();
        b.subscribe("down", after);
        assertEquals(java.util.Set.of("d:1", "d:2"),
                after.awaitCurrent(TIMEOUT).stream().map(e -> e.addr()).collect(java.util.stream.Collectors.toSet()));
        attached.awaitOnline(TIMEOUT, "d:2");
        assertEquals("d:1", await(b.leader("down")).orElseThrow().addr());
        attached.assertNoViolations();
    }

    @Test
    void tombstones_manyDistinctAddrsRegisteredAndUnregisteredThroughOneSubscription_doNotAccumulate() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend b = (ZooKeeperBackend) backend(s, Duration.ofSeconds(30));
        DiscoveryBackend peer = backend(s, Duration.ofSeconds(30));
        RecordingListener l = new RecordingListener();
        b.subscribe("tomb", l);
        l.awaitCurrent(TIMEOUT);
        int n = 150;
        for (int i = 0; i < n; i++) {
            // Alternate the daemon: own writes and writes seen only through the watch.
            DiscoveryBackend via = i % 2 == 0 ? b : peer;
            await(via.register("tomb", "t:" + i, null));
            await(via.unregister("tomb", "t:" + i));
        }
        await(b.register("tomb", "last:1", null));
        l.awaitOnline(TIMEOUT, "last:1");
        waitFor(TIMEOUT, "tombstones pruned", () -> b.tombstoneCount("tomb") == 0);
        // No resurrection: every own-daemon address went online then offline, once each, and stays gone.
        for (int i = 0; i < n; i += 2) {
            String addr = "t:" + i;
            assertEquals(List.of(RecordingListener.Kind.ONLINE, RecordingListener.Kind.OFFLINE),
                    l.live().stream().filter(e -> addr.equals(e.addr())).map(RecordingListener.Event::kind).toList(), addr);
        }
        assertEquals(List.of("last:1"), await(b.leader("tomb")).stream().map(i -> i.addr()).toList());
        l.assertNoViolations();
    }

    @Test
    void close_answersRegistersInFlight_andLateSubscriptionCloseIsHarmless() throws Exception {
        TestingServer s = server();
        DiscoveryBackend b = connected(vertx, s.getConnectString(), Duration.ofSeconds(30), dir());
        RecordingListener l = new RecordingListener();
        io.discoverd.backend.Subscription sub = b.subscribe("bye", l);
        l.awaitCurrent(TIMEOUT);
        List<java.util.concurrent.CompletableFuture<Registration>> inFlight = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            inFlight.add(b.register("bye", "b:" + i, null).toCompletableFuture());
        }
        await(b.close());
        for (java.util.concurrent.CompletableFuture<Registration> f : inFlight) {
            try {
                f.get(2, TimeUnit.SECONDS); // done before close, or answered by it
            } catch (ExecutionException e) {
                assertInstanceOf(DiscoveryException.StoreUnavailable.class, e.getCause());
                assertTrue(e.getCause().getMessage().endsWith("backend closed"), e.getCause().getMessage());
            }
        }
        sub.close(); // the server closes its streams after the backend: no exception
        RecordingListener late = new RecordingListener();
        b.subscribe("bye", late);
        assertSentinelThenStoreUnavailable(late, TIMEOUT, s.getConnectString());
        assertInstanceOf(DiscoveryException.StoreUnavailable.class, failure(b.leader("bye"), Duration.ofMillis(500)));
    }

    @Test
    void storeOutage_heartbeatsAtTheOwnerSucceed_newWritesFailFast_subscriptionsResume() throws Exception {
        TestingServer s = server();
        DiscoveryBackend b = backend(s, Duration.ofSeconds(30));
        DiscoveryBackend peer = backend(s, Duration.ofSeconds(30));
        Registration r = await(b.register("out", "o:1", Map.of("k", "v")));
        Registration r2 = await(b.register("out", "o:2b", null));
        RecordingListener l = new RecordingListener();
        b.subscribe("out", l);
        l.awaitCurrent(TIMEOUT);

        s.stop();
        waitFor(TIMEOUT, "disconnected", () -> !b.isConnected());
        Registration hb = await(b.register("out", "o:1", Map.of("k", "v")));
        assertEquals(Outcome.REFRESHED, hb.outcome());
        assertEquals(r.instance().created(), hb.instance().created());
        assertInstanceOf(DiscoveryException.StoreUnavailable.class, failure(b.register("out", "o:2", null), Duration.ofMillis(500)));
        assertInstanceOf(DiscoveryException.StoreUnavailable.class,
                failure(b.register("out", "o:1", Map.of("k", "changed")), Duration.ofMillis(500)));

        s.restart();
        waitFor(Duration.ofSeconds(15), "reconnected", b::isConnected);
        waitFor(Duration.ofSeconds(15), "peer reconnected", peer::isConnected);
        long c3 = await(peer.register("out", "o:3", null)).instance().created();
        l.awaitOnline(Duration.ofSeconds(15), "o:3");
        assertEquals(r.instance().created(), await(b.leader("out")).orElseThrow().created(), "the instance survived the outage");
        assertTrue(l.live().stream().noneMatch(e -> "o:1".equals(e.addr())), "no spurious event for o:1: " + l.live());
        CuratorFramework raw = rawClient(s.getConnectString());
        java.util.Set<Long> czxids = new java.util.HashSet<>();
        for (String child : raw.getChildren().forPath("/discoverd/leaders/out")) {
            czxids.add(raw.checkExists().forPath("/discoverd/leaders/out/" + child).getCzxid());
        }
        assertEquals(java.util.Set.of(r.instance().created(), r2.instance().created(), c3), czxids,
                "latch participants kept across the reconnect: their czxids are still the instances' created");
    }

    @Test
    void subscription_resynchronisesAfterSessionLoss_emittingOnlyDifferences() throws Exception {
        TestingServer s = server();
        DiscoveryBackend watcher = backend(s, Duration.ofSeconds(30));
        DiscoveryBackend owner = connected(vertx, s.getConnectString(), Duration.ofSeconds(30), dir());
        await(owner.register("rs", "gone:1", null));
        await(watcher.register("rs", "stays:1", null));
        RecordingListener l = new RecordingListener();
        watcher.subscribe("rs", l);
        assertEquals(2, l.awaitCurrent(TIMEOUT).size());
        // The owner is drained, so its session ends: its instance vanishes from the store; the watcher converges.
        await(owner.drain());
        l.awaitOffline(TIMEOUT, "gone:1");
        assertTrue(l.live().stream().noneMatch(e -> "stays:1".equals(e.addr())), l.live().toString());
    }

    @Test
    void sessionExpiry_ownInstancesAreRegisteredAgainAsNew_subscribersConverge() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend b = (ZooKeeperBackend) backend(s, Duration.ofSeconds(30));
        DiscoveryBackend peer = backend(s, Duration.ofSeconds(30));
        Registration mine = await(b.register("exp", "mine:1", Map.of("a", "1")));
        Registration theirs = await(peer.register("exp", "theirs:1", null));
        RecordingListener l = new RecordingListener();
        b.subscribe("exp", l);
        assertEquals(2, l.awaitCurrent(TIMEOUT).size());

        expireSession(b, s.getConnectString());
        // The store deleted the session's nodes; the daemon registers what it still holds again, by
        // itself, as a new instance (PROTOCOL.md §6.4): offline, then online with a larger created.
        l.awaitOffline(Duration.ofSeconds(15), "mine:1");
        RecordingListener.Event again = l.awaitLive(Duration.ofSeconds(15), "mine:1 back",
                e -> "mine:1".equals(e.addr()) && e.kind() == RecordingListener.Kind.ONLINE);
        assertTrue(again.created() > theirs.instance().created(), again.toString());
        assertEquals(Map.of("a", "1"), again.attrs());
        waitFor(Duration.ofSeconds(15), "reconnected", b::isConnected);
        Registration back = await(b.register("exp", "mine:1", Map.of("a", "1")));
        assertEquals(Outcome.REFRESHED, back.outcome(), "registered again already: the heartbeat refreshes it");
        assertEquals(again.created(), back.instance().created());
        assertTrue(l.live().stream().noneMatch(e -> "theirs:1".equals(e.addr())), "no event for the untouched instance: " + l.live());
        assertEquals(theirs.instance(), await(b.leader("exp")).orElseThrow());
        // A subscriber on another daemon converges to the same state.
        RecordingListener other = new RecordingListener();
        peer.subscribe("exp", other);
        assertEquals(java.util.Set.of(theirs.instance().created(), back.instance().created()),
                other.awaitCurrent(TIMEOUT).stream().map(RecordingListener.Event::created).collect(java.util.stream.Collectors.toSet()));
        assertNotEquals(mine.instance().created(), back.instance().created());
    }

    /**
     * Ends the backend's session on the server, as a session timeout would: a second handle on the
     * same session closes it (client-side injection alone would leave the nodes until the timeout).
     */
    private static void expireSession(ZooKeeperBackend b, String connect) throws Exception {
        org.apache.zookeeper.ZooKeeper zk = b.client().getZookeeperClient().getZooKeeper();
        java.util.concurrent.CountDownLatch up = new java.util.concurrent.CountDownLatch(1);
        org.apache.zookeeper.ZooKeeper other = new org.apache.zookeeper.ZooKeeper(connect, 10_000, e -> {
            if (e.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                up.countDown();
            }
        }, zk.getSessionId(), zk.getSessionPasswd());
        assertTrue(up.await(10, TimeUnit.SECONDS), "second handle connected");
        other.close();
    }

    @Test
    void chrootInConnectString_isUsedAsNamespace() throws Exception {
        TestingServer s = server();
        DiscoveryBackend b = connected(vertx, s.getConnectString() + "/tenant-a", Duration.ofSeconds(30), dir());
        backends.add(b);
        await(b.register("web", "c:1", null));
        CuratorFramework raw = rawClient(s.getConnectString());
        assertTrue(raw.checkExists().forPath("/tenant-a/discoverd/services/web/c:1") != null);
        assertTrue(b.describe().contains("/tenant-a"), b.describe());

        // Reads of whole services (read-only multis on ZooKeeper's own handle) are in the chroot too:
        // a decoy outside it must not be seen, the instance inside must.
        raw.create().creatingParentsIfNeeded().forPath("/discoverd/services/web/decoy:1",
                new StoredInstance(null, 1).toBytes());
        RecordingListener l = new RecordingListener();
        b.subscribe("web", l);
        assertEquals(List.of("c:1"), l.awaitCurrent(TIMEOUT).stream().map(RecordingListener.Event::addr).toList());
        assertEquals("c:1", await(b.leader("web")).orElseThrow().addr());
    }

    @Test
    void digestAuth_isAcceptedAndWorks() throws Exception {
        TestingServer s = server();
        DiscoveryBackend b = ZooKeeperTestSupport.create(vertx, new JsonObject().put("connect", s.getConnectString())
                .put("root", "/authed").put("auth", new JsonObject().put("scheme", "digest").put("user", "u").put("password", "p")),
                Duration.ofSeconds(30), dir());
        backends.add(b);
        waitFor(TIMEOUT, "connected", b::isConnected);
        assertEquals(Outcome.CREATED, await(b.register("web", "a:1", null)).outcome());
        assertTrue(rawClient(s.getConnectString()).checkExists().forPath("/authed/services/web/a:1") != null);
    }
}
