package io.discoverd.backend.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.Registration;
import io.discoverd.backend.DiscoveryBackendProvider;
import io.discoverd.backend.Registration.Outcome;
import io.discoverd.backend.contract.RecordingListener;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The provider: discovery by ServiceLoader, config parsing, and the embedded server. */
class ZooKeeperProviderTest {

    private static Vertx vertx;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopVertx() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    @Test
    void serviceLoader_findsTheProviderNamedZookeeper() {
        List<DiscoveryBackendProvider> found = ServiceLoader.load(DiscoveryBackendProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(p -> p.name().equals("zookeeper")).toList();
        assertEquals(1, found.size());
        assertTrue(found.get(0) instanceof ZooKeeperBackendProvider);
    }

    @Test
    void config_defaults() {
        ZooKeeperConfig c = ZooKeeperConfig.parse(new JsonObject());
        assertEquals("embedded", c.connect());
        assertEquals(2181, c.embeddedPort());
        assertEquals("/discoverd", c.root());
        assertEquals(Duration.ofSeconds(15), c.sessionTimeout());
        assertEquals(Duration.ofSeconds(5), c.connectionTimeout());
        assertNull(c.auth());
    }

    @Test
    void config_valuesAndChroot() {
        ZooKeeperConfig c = ZooKeeperConfig.parse(new JsonObject().put("connect", "zk1:2181,zk2:2181/prod/dd/")
                .put("embedded", new JsonObject().put("port", 3181)).put("root", "/x").put("sessionTimeout", "20s")
                .put("connectionTimeout", "1500ms"));
        assertEquals("zk1:2181,zk2:2181", c.hosts());
        assertEquals("prod/dd", c.namespace());
        assertEquals(3181, c.embeddedPort());
        assertEquals(Duration.ofSeconds(20), c.sessionTimeout());
        assertEquals(Duration.ofMillis(1500), c.connectionTimeout());
        assertNull(ZooKeeperConfig.parse(new JsonObject().put("connect", "h:1")).namespace());
    }

    @Test
    void config_invalidValues_nameTheField() {
        assertField("zookeeper.sessionTimeout:", new JsonObject().put("sessionTimeout", "soon"));
        assertField("zookeeper.connectionTimeout:", new JsonObject().put("connectionTimeout", "0s"));
        assertField("zookeeper.embedded.port:", new JsonObject().put("embedded", new JsonObject().put("port", 70000)));
        assertField("zookeeper.embedded.port:", new JsonObject().put("embedded", new JsonObject().put("port", "x")));
        assertField("zookeeper.root:", new JsonObject().put("root", "no-slash"));
        assertField("zookeeper.root:", new JsonObject().put("root", "/trailing/"));
        assertField("zookeeper.connect:", new JsonObject().put("connect", " "));
        assertField("zookeeper.connect:", new JsonObject().put("connect", "/chroot-only"));
        assertField("zookeeper.auth.scheme:", new JsonObject().put("auth", new JsonObject().put("scheme", "sasl").put("user", "u").put("password", "p")));
        assertField("zookeeper.auth.password:", new JsonObject().put("auth", new JsonObject().put("user", "u")));
    }

    private static void assertField(String prefix, JsonObject cfg) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ZooKeeperConfig.parse(cfg));
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    }

    @Test
    void embedded_servesOnLoopback_keepsDataDirTidy_stopsOnClose_andKeepsInstancesAcrossARestart() throws Exception {
        int port = ZooKeeperTestSupport.freePort();
        JsonObject cfg = new JsonObject().put("embedded", new JsonObject().put("port", port));
        long created = 0;
        for (int boot = 0; boot < 2; boot++) {
            DiscoveryBackend b = ZooKeeperTestSupport.create(vertx, cfg, Duration.ofSeconds(30), dataDir);
            try {
                ZooKeeperTestSupport.waitFor(Duration.ofSeconds(10), "connected", b::isConnected);
                assertTrue(b.describe().contains("127.0.0.1:" + port), b.describe());
                // The second boot resumes the session of the first (the embedded server keeps it): same instance.
                Registration r = b.register("web", "e:1", null).toCompletableFuture().get(10, TimeUnit.SECONDS);
                assertEquals(boot == 0 ? Outcome.CREATED : Outcome.REFRESHED, r.outcome());
                if (boot == 0) {
                    created = r.instance().created();
                } else {
                    assertEquals(created, r.instance().created(), "created survives the restart");
                }
                RecordingListener l = new RecordingListener();
                b.subscribe("web", l);
                assertEquals(1, l.awaitCurrent(Duration.ofSeconds(10)).size());
            } finally {
                b.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            try (Stream<Path> files = Files.list(dataDir.resolve("zookeeper"))) {
                long configs = files.filter(f -> f.getFileName().toString().startsWith("zookeeper.configuration")).count();
                assertEquals(1, configs, "old generated configuration files are purged");
            }
            // closed: the port is free again
            try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertEquals(port, probe.getLocalPort());
            }
        }
    }

    @Test
    void embedded_takenPort_failsWithClearError() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            JsonObject cfg = new JsonObject().put("embedded", new JsonObject().put("port", taken.getLocalPort()));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ZooKeeperTestSupport.create(vertx, cfg, Duration.ofSeconds(30), dataDir));
            assertTrue(e.getMessage().contains("127.0.0.1:" + taken.getLocalPort()), e.getMessage());
            assertTrue(e.getMessage().startsWith("zookeeper.embedded.port:"), e.getMessage());
        }
    }
}
