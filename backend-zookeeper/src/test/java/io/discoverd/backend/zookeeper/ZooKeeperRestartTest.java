package io.discoverd.backend.zookeeper;

import static io.discoverd.backend.zookeeper.ZooKeeperTestSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.Registration;
import io.discoverd.backend.Registration.Outcome;
import io.discoverd.backend.contract.RecordingListener;
import io.discoverd.backend.contract.RecordingListener.Kind;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Restarts and faults of the ZooKeeper backend (ARCHITECTURE.md "Liveness", PROTOCOL.md §5.6,
 * §6.4): session resumption across a stop or a kill, drain, and a store outage longer than the TTL.
 */
class ZooKeeperRestartTest extends ZooKeeperTestBase {

    private static final Duration TTL = Duration.ofMillis(1500);

    @TempDir
    Path tmp;

    /** A daemon on {@code dataDir} with the short {@link #TTL}: a backend through the provider, connected. */
    private ZooKeeperBackend daemon(TestingServer s, Path dataDir) {
        return daemon(s, dataDir, TTL);
    }

    /** Another daemon, whose instances live as long as the test (a TTL of one minute). */
    private ZooKeeperBackend peer(TestingServer s) throws Exception {
        return daemon(s, dir("peer"), Duration.ofSeconds(60));
    }

    private ZooKeeperBackend daemon(TestingServer s, Path dataDir, Duration ttl) {
        DiscoveryBackend b = ZooKeeperTestSupport.create(vertx, new JsonObject().put("connect", s.getConnectString())
                .put("sessionTimeout", "10s").put("connectionTimeout", "2s"), ttl, dataDir);
        backends.add(b);
        waitFor(TIMEOUT, "connected", b::isConnected);
        return (ZooKeeperBackend) b;
    }

    private Path dir(String name) throws Exception {
        return Files.createDirectories(tmp.resolve(name));
    }

    private static long sessionOf(ZooKeeperBackend b) throws Exception {
        return b.client().getZookeeperClient().getZooKeeper().getSessionId();
    }

    /**
     * Heartbeats {@code addr} at {@code b} every 100 ms (each must be a refresh with {@code created})
     * until {@code done} holds; fails after the timeout.
     */
    private static void heartbeatUntil(DiscoveryBackend b, String name, String addr, long created,
                                       Duration timeout, String what, java.util.function.BooleanSupplier done) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Registration r = await(b.register(name, addr, null));
            assertEquals(Outcome.REFRESHED, r.outcome());
            assertEquals(created, r.instance().created(), "created unchanged");
            Thread.sleep(100); // the heartbeat interval of a client, not a wait for a condition
        }
    }

    @ParameterizedTest(name = "killed={0}")
    @ValueSource(booleans = {false, true})
    void restart_resumesTheSession_keepsCreatedAndLeader_andRearmsDeadlines(boolean killed) throws Exception {
        TestingServer s = server();
        Path dirA = dir("a");
        ZooKeeperBackend first = daemon(s, dirA);
        ZooKeeperBackend peer = peer(s);
        long session = sessionOf(first);
        Registration kept = await(first.register("rs", "kept:1", null));
        Registration dropped = await(first.register("rs", "dropped:1", null));
        Registration other = await(peer.register("rs", "other:1", null));
        RecordingListener atPeer = new RecordingListener();
        peer.subscribe("rs", atPeer);
        assertEquals(3, atPeer.awaitCurrent(TIMEOUT).size());

        if (killed) {
            first.abandon(); // as SIGKILL: no close of anything
        } else {
            await(first.close()); // as SIGTERM: a plain stop
        }
        long restartedAt = System.nanoTime();
        ZooKeeperBackend second = daemon(s, dirA);
        assertEquals(session, sessionOf(second), "the restarted daemon resumed the recorded session");

        // Heartbeats of kept:1 reach the restarted daemon: the same instance, refreshed (no store write needed).
        Registration hb = await(second.register("rs", "kept:1", null));
        assertEquals(Outcome.REFRESHED, hb.outcome(), "adopted, not registered anew");
        assertEquals(kept.instance().created(), hb.instance().created());
        assertEquals(kept.instance(), await(second.leader("rs")).orElseThrow(), "same leader");
        RecordingListener atSecond = new RecordingListener();
        second.subscribe("rs", atSecond);
        assertEquals(java.util.Set.of(kept.instance(), dropped.instance(), other.instance()),
                java.util.Set.copyOf(atSecond.awaitCurrent(TIMEOUT).stream()
                        .map(e -> new io.discoverd.backend.Instance(e.name(), e.addr(), e.attrs(), e.created())).toList()));

        // dropped:1 gets no heartbeat: its re-armed deadline (start + TTL) expires it, not earlier.
        heartbeatUntil(second, "rs", "kept:1", kept.instance().created(), TIMEOUT, "dropped:1 to expire",
                () -> atPeer.sawLive("dropped:1"));
        RecordingListener.Event off = atPeer.awaitOffline(TIMEOUT, "dropped:1");
        assertTrue(off.atNanos() - restartedAt >= TTL.toNanos() - TimeUnit.MILLISECONDS.toNanos(100),
                "expired " + (off.atNanos() - restartedAt) / 1_000_000 + " ms after the restart, TTL " + TTL.toMillis());
        // kept:1 stays while its heartbeats continue, another whole TTL.
        long until = System.nanoTime() + TTL.toNanos();
        heartbeatUntil(second, "rs", "kept:1", kept.instance().created(), TIMEOUT, "one more TTL",
                () -> System.nanoTime() > until);
        assertFalse(atPeer.sawLive("kept:1"), "no event at all for kept:1 on the other daemon: " + atPeer.events());
        assertFalse(atSecond.sawLive("kept:1"), "no event for kept:1 on the restarted daemon: " + atSecond.events());

        // The latch participants: kept:1's adopted one (czxid = created) and other:1's; dropped:1's went with it.
        CuratorFramework raw = rawClient(s.getConnectString());
        java.util.Set<Long> czxids = new java.util.HashSet<>();
        for (String child : raw.getChildren().forPath("/discoverd/leaders/rs")) {
            czxids.add(raw.checkExists().forPath("/discoverd/leaders/rs/" + child).getCzxid());
        }
        assertEquals(java.util.Set.of(kept.instance().created(), other.instance().created()), czxids);

        // A new registration after the restart starts a new latch, queued after the adopted participant.
        Registration fresh = await(second.register("rs", "fresh:1", null));
        assertEquals(Outcome.CREATED, fresh.outcome());
        assertTrue(fresh.instance().created() > other.instance().created());
        assertEquals(kept.instance(), await(peer.leader("rs")).orElseThrow());
        // The leader leaves: leadership passes in created order.
        await(second.unregister("rs", "kept:1"));
        assertEquals(other.instance(), await(second.leader("rs")).orElseThrow());
        assertEquals(2, raw.getChildren().forPath("/discoverd/leaders/rs").size(), "the adopted participant was deleted");
        atPeer.assertNoViolations();
    }

    @Test
    void restart_whileHeartbeatsReachAnotherDaemon_theInstanceStaysWithItsCreated() throws Exception {
        TestingServer s = server();
        Path dirA = dir("a");
        ZooKeeperBackend owner = daemon(s, dirA);
        ZooKeeperBackend other = daemon(s, dir("other"), TTL);
        Registration r = await(owner.register("mv", "moved:1", null));
        RecordingListener atOther = new RecordingListener();
        other.subscribe("mv", atOther);
        assertEquals(1, atOther.awaitCurrent(TIMEOUT).size());

        // The owner is down for two TTLs; the client's heartbeats now reach the other daemon.
        await(owner.close());
        long downUntil = System.nanoTime() + 2 * TTL.toNanos();
        heartbeatUntil(other, "mv", "moved:1", r.instance().created(), TIMEOUT, "two TTLs without the owner",
                () -> System.nanoTime() > downUntil);
        // The owner comes back and adopts it; the other daemon's refreshes count as its heartbeats.
        ZooKeeperBackend back = daemon(s, dirA);
        long after = System.nanoTime() + 2 * TTL.toNanos();
        heartbeatUntil(other, "mv", "moved:1", r.instance().created(), TIMEOUT, "two TTLs after the restart",
                () -> System.nanoTime() > after);
        assertFalse(atOther.sawLive("moved:1"), "no event: " + atOther.events());
        assertEquals(r.instance(), await(back.leader("mv")).orElseThrow());
        // Heartbeats move back to the owner: still the same instance.
        assertEquals(r.instance().created(), await(back.register("mv", "moved:1", null)).instance().created());
    }

    @Test
    void restart_adoptsNothingOfAnotherSession_andForgetsAParticipantLeftWithoutItsInstance() throws Exception {
        TestingServer s = server();
        Path dirA = dir("a");
        ZooKeeperBackend first = daemon(s, dirA);
        ZooKeeperBackend peer = peer(s);
        Registration theirs = await(peer.register("ad", "theirs:1", null));
        Registration mine = await(first.register("ad", "mine:1", null));
        await(first.close());
        CuratorFramework raw = rawClient(s.getConnectString());
        // While the daemon is down, the instance node goes but its participant stays (as after a
        // crash between the two deletes).
        raw.delete().forPath("/discoverd/services/ad/mine:1");
        ZooKeeperBackend second = daemon(s, dirA);
        Registration again = await(second.register("ad", "mine:1", null));
        assertEquals(Outcome.CREATED, again.outcome());
        assertTrue(again.instance().created() > mine.instance().created());
        java.util.Set<Long> czxids = new java.util.HashSet<>();
        for (String child : raw.getChildren().forPath("/discoverd/leaders/ad")) {
            czxids.add(raw.checkExists().forPath("/discoverd/leaders/ad/" + child).getCzxid());
        }
        assertEquals(java.util.Set.of(theirs.instance().created(), again.instance().created()), czxids,
                "the stale participant was deleted, the peer's was not touched");
        // theirs:1 is the peer's: heartbeats there still work, and the restarted daemon did not adopt it.
        assertEquals(Outcome.REFRESHED, await(peer.register("ad", "theirs:1", null)).outcome());
        Stat st = raw.checkExists().forPath("/discoverd/services/ad/theirs:1");
        assertEquals(sessionOf(peer), st.getEphemeralOwner());
    }

    @Test
    void drain_takesEveryInstanceOfTheDaemonOfflineAtOnce_andTheNextStartIsFresh() throws Exception {
        TestingServer s = server();
        Path dirA = dir("a");
        ZooKeeperBackend drained = daemon(s, dirA);
        ZooKeeperBackend peer = peer(s);
        Registration one = await(drained.register("dr", "one:1", null));
        await(drained.register("dr", "two:1", Map.of("k", "v")));
        Registration stays = await(peer.register("dr", "stays:1", null));
        RecordingListener atPeer = new RecordingListener();
        peer.subscribe("dr", atPeer);
        assertEquals(3, atPeer.awaitCurrent(TIMEOUT).size());
        assertTrue(Files.exists(dirA.resolve(SavedSession.FILE)), "the session is recorded");

        long t0 = System.nanoTime();
        await(drained.drain());
        // Long before the session timeout (10 s), and long before the TTL (1.5 s): at once.
        atPeer.awaitOffline(Duration.ofMillis(1000), "one:1");
        atPeer.awaitOffline(Duration.ofMillis(1000), "two:1");
        assertTrue(System.nanoTime() - t0 < TTL.toNanos(), "offline within the TTL");
        assertFalse(atPeer.sawLive("stays:1"), "the other daemon's instance is untouched");
        assertEquals(stays.instance(), await(peer.leader("dr")).orElseThrow());
        assertFalse(Files.exists(dirA.resolve(SavedSession.FILE)), "nothing left to resume");
        assertFalse(drained.isConnected());

        // A heartbeat now reaching the other daemon registers the instance again, with a new created.
        Registration back = await(peer.register("dr", "one:1", null));
        assertEquals(Outcome.CREATED, back.outcome());
        assertTrue(back.instance().created() > one.instance().created());
        // The next start on the drained data directory opens a fresh session.
        ZooKeeperBackend next = daemon(s, dirA);
        assertEquals(Outcome.CREATED, await(next.register("dr", "two:1", Map.of("k", "v"))).outcome());
    }

    @Test
    void storeDownLongerThanTheTtl_whileHeartbeatsContinue_nothingExpires() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend b = daemon(s, dir("a"));
        ZooKeeperBackend peer = peer(s);
        Registration r = await(b.register("down", "hb:1", null));
        long created = r.instance().created();
        RecordingListener atPeer = new RecordingListener();
        peer.subscribe("down", atPeer);
        assertEquals(1, atPeer.awaitCurrent(TIMEOUT).size());
        RecordingListener atOwner = new RecordingListener();
        b.subscribe("down", atOwner);
        assertEquals(1, atOwner.awaitCurrent(TIMEOUT).size());

        // idle:1 gets no heartbeat at all: its deadline passes during the outage, which does not count.
        await(b.register("down", "idle:1", null));
        atPeer.awaitOnline(TIMEOUT, "idle:1");

        s.stop();
        waitFor(TIMEOUT, "disconnected", () -> !b.isConnected());
        long downUntil = System.nanoTime() + 2 * TTL.toNanos();
        heartbeatUntil(b, "down", "hb:1", created, TIMEOUT, "two TTLs of outage", () -> System.nanoTime() > downUntil);
        s.restart();
        waitFor(Duration.ofSeconds(15), "reconnected", b::isConnected);
        long reconnected = System.nanoTime();
        long after = System.nanoTime() + 2 * TTL.toNanos();
        heartbeatUntil(b, "down", "hb:1", created, TIMEOUT, "two TTLs after the outage", () -> System.nanoTime() > after);

        // Still there, same node and created, and no subscriber saw it go.
        RecordingListener fresh = new RecordingListener();
        peer.subscribe("down", fresh);
        assertEquals(List.of(created), fresh.awaitCurrent(TIMEOUT).stream().map(RecordingListener.Event::created).toList());
        assertTrue(atPeer.live().stream().noneMatch(e -> e.kind() == Kind.OFFLINE && e.addr().equals("hb:1")),
                atPeer.events().toString());
        assertTrue(atOwner.live().stream().noneMatch(e -> e.kind() == Kind.OFFLINE && e.addr().equals("hb:1")),
                atOwner.events().toString());
        // idle:1 expired only once the store was back, about a TTL later (what was left of its TTL
        // when the store went away), not at the reconnection.
        RecordingListener.Event idleGone = atOwner.awaitOffline(TIMEOUT, "idle:1");
        assertTrue(idleGone.atNanos() - reconnected >= TTL.toNanos() - TimeUnit.MILLISECONDS.toNanos(500),
                "idle:1 expired " + (idleGone.atNanos() - reconnected) / 1_000_000 + " ms after the reconnection");
        assertEquals(r.instance(), await(peer.leader("down")).orElseThrow());
    }
}
