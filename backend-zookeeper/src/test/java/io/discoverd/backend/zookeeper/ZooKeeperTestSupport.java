package io.discoverd.backend.zookeeper;

import static org.junit.jupiter.api.Assertions.fail;

import io.discoverd.backend.BackendContext;
import io.discoverd.backend.DiscoveryBackend;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Shared helpers of the ZooKeeper tests: backends through the provider, free ports, bounded waits. */
final class ZooKeeperTestSupport {

    private ZooKeeperTestSupport() {
    }

    /** Creates a backend through the provider, as the daemon does. */
    static DiscoveryBackend create(Vertx vertx, JsonObject config, Duration ttl, Path dataDir) {
        return new ZooKeeperBackendProvider().create(new BackendContext(vertx, config, ttl, dataDir));
    }

    /** Creates a backend on {@code connect} and waits until it is connected. */
    static DiscoveryBackend connected(Vertx vertx, String connect, Duration ttl, Path dataDir) {
        DiscoveryBackend b = create(vertx, new JsonObject().put("connect", connect).put("sessionTimeout", "10s"), ttl, dataDir);
        waitFor(Duration.ofSeconds(10), "connected to " + connect, b::isConnected);
        return b;
    }

    /** Polls {@code condition} until it holds or the deadline passes. */
    static void waitFor(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            try {
                Thread.sleep(10); // polling interval of a deadline wait, not a fixed delay
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }

    /** A port free on 127.0.0.1 at the time of the call. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
