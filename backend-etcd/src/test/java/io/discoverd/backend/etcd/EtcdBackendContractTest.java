package io.discoverd.backend.etcd;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.contract.BackendContractTest;
import io.discoverd.backend.etcd.testing.EtcdProcess;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend contract suite, unchanged, on a real etcd process (loopback, ephemeral ports); the
 * peer backend is a second daemon on the same etcd. Each test gets its own key prefix.
 */
class EtcdBackendContractTest extends BackendContractTest {

    private static EtcdProcess etcd;
    private static Vertx vertx;
    /** The daemons' data directory; JUnit deletes it after the class. */
    @TempDir
    static Path dataDir;
    private JsonObject section;

    @BeforeAll
    static void startEtcd() throws Exception {
        etcd = EtcdProcess.startSingle();
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopEtcd() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
        etcd.close();
    }

    @BeforeEach
    void newPrefix() {
        section = EtcdTestSupport.section(etcd.endpoint(), EtcdTestSupport.uniquePrefix());
    }

    /** etcd leases count whole seconds: the expiry tests use a TTL etcd can express. */
    @Override
    protected Duration ttl() {
        return Duration.ofSeconds(2);
    }

    @Override
    protected DiscoveryBackend newBackend(Duration registrationTtl) {
        return EtcdTestSupport.backend(vertx, section, registrationTtl, dataDir);
    }

    @Override
    protected DiscoveryBackend newPeerBackend(Duration registrationTtl) {
        return EtcdTestSupport.backend(vertx, section, registrationTtl, dataDir);
    }
}
