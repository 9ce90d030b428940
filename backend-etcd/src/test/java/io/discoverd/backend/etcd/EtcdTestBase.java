package io.discoverd.backend.etcd;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.etcd.testing.EtcdProcess;
import io.etcd.jetcd.Client;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared lifecycle of the tests that run backends ("daemons") on one healthy single-member etcd:
 * one etcd process and one Vert.x per class, a key prefix of its own per test (so tests never see
 * each other's keys), and every backend made by {@link #backend} closed after its test.
 */
abstract class EtcdTestBase {

    protected static EtcdProcess etcd;
    protected static Vertx vertx;
    @TempDir
    protected static Path dataDir;
    /** This test's {@code etcd} config section: the process's endpoint and a fresh prefix. */
    protected JsonObject section;
    private final List<DiscoveryBackend> backends = new ArrayList<>();

    /** A plain jetcd client of the class's etcd, for tests that look at the store directly. */
    protected static Client probe;

    @BeforeAll
    static void startEtcdAndVertx() throws Exception {
        etcd = EtcdProcess.startSingle();
        vertx = Vertx.vertx();
        probe = EtcdTests.jetcd(etcd.endpoint());
    }

    @AfterAll
    static void stopVertxAndEtcd() {
        probe.close();
        vertx.close().toCompletionStage().toCompletableFuture().join();
        etcd.close();
    }

    @BeforeEach
    void newPrefix() {
        section = EtcdTestSupport.section(etcd.endpoint(), EtcdTestSupport.uniquePrefix());
    }

    @AfterEach
    void closeBackends() throws Exception {
        for (DiscoveryBackend b : backends) {
            b.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /** A backend on the shared Vert.x and this test's section, closed after the test. */
    protected DiscoveryBackend backend(Duration ttl) {
        DiscoveryBackend b = EtcdTestSupport.backend(vertx, section, ttl, dataDir);
        backends.add(b);
        return b;
    }
}
