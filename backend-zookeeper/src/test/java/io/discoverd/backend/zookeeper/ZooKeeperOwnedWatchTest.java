package io.discoverd.backend.zookeeper;

import static io.discoverd.backend.zookeeper.ZooKeeperTestSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.Registration.Outcome;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/**
 * What an owned instance costs the store (requests per registration, watches) and how writes and
 * deletes of it through other daemons reach its owner through the one watch of its service.
 */
class ZooKeeperOwnedWatchTest extends ZooKeeperTestBase {

    @Test
    void newRegistrations_costTwoRequestsEach_andTheirServiceHoldsOneWatch_removedWithItsLastInstance() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend b = daemon(s, Duration.ofSeconds(30));
        int serverWatches = serverWatchCount(s); // Curator's own (the ensemble configuration), if set yet
        // The service's directories and watch exist after its first instance.
        await(b.register("w", "w:0", null));

        long before = packetsReceived(s);
        int n = 50;
        for (int i = 1; i <= n; i++) {
            assertEquals(Outcome.CREATED, await(b.register("w", "w:" + i, Map.of("k", "v"))).outcome());
        }
        long requests = packetsReceived(s) - before;
        // The raw client's two: the latch participant, then the instance node (a ping may slip in).
        assertTrue(requests >= 2L * n && requests <= 2L * n + 2, requests + " requests for " + n + " new instances");

        ZooKeeper zk = b.client().getZookeeperClient().getZooKeeper();
        assertEquals(List.of(), watches(zk, "getDataWatches").stream().filter(p -> p.startsWith("/discoverd/")).toList(),
                "no watch per instance");
        assertEquals(List.of("/discoverd/services/w"), watches(zk, "getPersistentRecursiveWatches"));
        // The service's one watch, and Curator's own (the ensemble configuration) if it was set after the
        // first count: a watch per instance would add 51.
        int added = serverWatchCount(s) - serverWatches;
        assertTrue(added >= 1 && added <= 2, added + " watches added on the server for a service of " + (n + 1) + " instances");

        for (int i = 0; i <= n; i++) {
            await(b.unregister("w", "w:" + i));
        }
        waitFor(TIMEOUT, "the watch removed with the last instance",
                () -> watches(zk, "getPersistentRecursiveWatches").isEmpty());
    }

    @Test
    void writeAndDeleteThroughAnotherDaemon_reachTheOwner_alsoAfterAReconnect() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend owner = daemon(s, Duration.ofSeconds(30));
        ZooKeeperBackend other = daemon(s, Duration.ofSeconds(30));
        CuratorFramework raw = rawClient(s.getConnectString());
        await(owner.register("fw", "f:1", Map.of("v", "1")));
        await(owner.register("fw", "f:2", null));
        await(owner.register("fw", "f:3", null));

        // A Register through the other daemon is a versioned write: the owner takes its version.
        assertEquals(Outcome.UPDATED, await(other.register("fw", "f:1", Map.of("v", "2"))).outcome());
        int stored = raw.checkExists().forPath("/discoverd/services/fw/f:1").getVersion();
        waitFor(TIMEOUT, "the owner saw the write", () -> owner.ownedVersion("fw", "f:1").equals(Optional.of(stored)));
        // An Unregister through the other daemon: the owner forgets the instance.
        await(other.unregister("fw", "f:2"));
        waitFor(TIMEOUT, "the owner forgot f:2", () -> owner.ownedVersion("fw", "f:2").isEmpty());

        // The same session across a server restart: the watch is still there afterwards.
        s.restart();
        waitFor(Duration.ofSeconds(15), "owner reconnected", owner::isConnected);
        waitFor(Duration.ofSeconds(15), "other reconnected", other::isConnected);
        await(other.register("fw", "f:1", Map.of("v", "3")));
        Stat stat = raw.checkExists().forPath("/discoverd/services/fw/f:1");
        waitFor(TIMEOUT, "the owner saw the write after the reconnect",
                () -> owner.ownedVersion("fw", "f:1").equals(Optional.of(stat.getVersion())));
        await(other.unregister("fw", "f:3"));
        waitFor(TIMEOUT, "the owner forgot f:3 after the reconnect", () -> owner.ownedVersion("fw", "f:3").isEmpty());
        assertTrue(owner.ownedVersion("fw", "f:1").isPresent(), "f:1 still owned");
    }

    @Test
    void registerThroughANonOwner_isAReadAndAWrite_onceTheInstanceIsKnownToBeHeldElsewhere_noCreateAttempt() throws Exception {
        TestingServer s = server();
        ZooKeeperBackend owner = daemon(s, Duration.ofSeconds(30));
        ZooKeeperBackend other = daemon(s, Duration.ofSeconds(30));
        long created = await(owner.register("he", "h:1", null)).instance().created();
        // The first Register through the other daemon tries a create and learns the node is held elsewhere.
        assertEquals(created, await(other.register("he", "h:1", null)).instance().created());
        long before = packetsReceived(s);
        int n = 10;
        for (int i = 0; i < n; i++) {
            assertEquals(created, await(other.register("he", "h:1", null)).instance().created());
        }
        long requests = packetsReceived(s) - before;
        // A read and a versioned write by the non-owner, and the owner's read when its watch reports the write.
        assertTrue(requests <= 3L * n + 2, requests + " requests for " + n + " heartbeats through the non-owner");
        assertEquals(List.of(), watches(other.client().getZookeeperClient().getZooKeeper(), "getPersistentRecursiveWatches"),
                "the non-owner keeps no watch");
    }

    /** The paths of the client's own watch registrations of one kind (ZooKeeper keeps the lists protected). */
    @SuppressWarnings("unchecked")
    private static List<String> watches(ZooKeeper zk, String kind) {
        try {
            Method m = ZooKeeper.class.getDeclaredMethod(kind);
            m.setAccessible(true);
            return (List<String>) m.invoke(zk);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
