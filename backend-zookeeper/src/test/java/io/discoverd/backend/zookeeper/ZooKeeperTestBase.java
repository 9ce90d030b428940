package io.discoverd.backend.zookeeper;

import io.discoverd.backend.DiscoveryBackend;
import io.vertx.core.Vertx;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the ZooKeeper tests that run several backends ("daemons") share: one Vert.x for the class,
 * and everything a test starts (backends, servers, raw clients) closed after it.
 */
abstract class ZooKeeperTestBase {

    static final Duration TIMEOUT = Duration.ofSeconds(10);
    static Vertx vertx;

    /** Backends a test started, closed after it (a plain stop, as on SIGTERM). */
    final List<DiscoveryBackend> backends = new ArrayList<>();
    /** Servers and clients a test started, closed after its backends. */
    final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopVertx() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (DiscoveryBackend b : backends) {
            b.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    /** A ZooKeeper server on a loopback ephemeral port, closed after the test. */
    TestingServer server() throws Exception {
        TestingServer s = new TestingServer(-1, true);
        closeables.add(s);
        return s;
    }

    /** Data directories of the daemons a test starts. */
    @TempDir
    Path daemonDirs;

    /** A connected ZooKeeper backend ("daemon") on {@code s} with its own data directory, closed after the test. */
    ZooKeeperBackend daemon(TestingServer s, Duration ttl) throws Exception {
        ZooKeeperBackend b = (ZooKeeperBackend) ZooKeeperTestSupport.connected(vertx, s.getConnectString(), ttl,
                Files.createTempDirectory(daemonDirs, "daemon"));
        backends.add(b);
        return b;
    }

    /** A plain Curator client for reading the store directly, closed after the test. */
    CuratorFramework rawClient(String connect) {
        CuratorFramework c = CuratorFrameworkFactory.newClient(connect, new RetryOneTime(100));
        c.start();
        closeables.add(c);
        return c;
    }

    /** Packets the server received from all clients so far (its JMX bean). */
    static long packetsReceived(TestingServer s) throws Exception {
        return (Long) mbeans().getAttribute(serverBean(s), "PacketsReceived");
    }

    /** Watches the server holds over all sessions (its data tree's JMX bean). */
    static int serverWatchCount(TestingServer s) throws Exception {
        ObjectName tree = new ObjectName(serverBean(s) + ",name1=InMemoryDataTree");
        return (Integer) mbeans().getAttribute(tree, "WatchCount");
    }

    static ObjectName serverBean(TestingServer s) throws Exception {
        return new ObjectName("org.apache.ZooKeeperService:name0=StandaloneServer_port" + s.getPort());
    }

    static MBeanServer mbeans() {
        return ManagementFactory.getPlatformMBeanServer();
    }

    /** The stage's value within {@link #TIMEOUT}. */
    static <T> T await(CompletionStage<T> st) throws Exception {
        return st.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }
}
