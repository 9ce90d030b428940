package io.discoverd.backend.zookeeper;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.contract.BackendContractTest;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend contract suite on a real ZooKeeper server (curator-test {@link TestingServer} on an
 * ephemeral loopback port); the peer backend is a second daemon on the same server.
 */
class ZooKeeperBackendContractTest extends BackendContractTest {

    private static TestingServer server;
    private static Vertx vertx;
    /** The daemons' data directories; JUnit deletes it after the class. */
    @TempDir
    static Path dataDir;

    @BeforeAll
    static void startServer() throws Exception {
        server = new TestingServer(-1, true);
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    /** Each backend is a daemon with a data directory of its own (it records its session there). */
    private static Path newDir() throws java.io.IOException {
        return Files.createTempDirectory(dataDir, "daemon");
    }

    @Override
    protected DiscoveryBackend newBackend(Duration registrationTtl) throws java.io.IOException {
        return ZooKeeperTestSupport.connected(vertx, server.getConnectString(), registrationTtl, newDir());
    }

    @Override
    protected DiscoveryBackend newPeerBackend(Duration registrationTtl) throws java.io.IOException {
        return ZooKeeperTestSupport.connected(vertx, server.getConnectString(), registrationTtl, newDir());
    }
}
