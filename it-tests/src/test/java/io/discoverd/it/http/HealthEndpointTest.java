package io.discoverd.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.discoverd.it.Backend;
import io.discoverd.it.EachBackend;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.json.JsonRpcClient;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

/**
 * {@code GET /health} (PROTOCOL.md §5.11): 200 with a JSON status while the store is reachable,
 * 503 once the store server (ZooKeeper or etcd) is gone. Owns its store, because it stops it.
 */
@EachBackend
class HealthEndpointTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    @TempDir
    static Path dir;
    static StoreAndDaemon env;

    @BeforeParameterizedClassInvocation
    static void start(Backend backend) throws Exception {
        env = StoreAndDaemon.start(backend, dir, "");
    }

    @AfterParameterizedClassInvocation
    static void stop() throws Exception {
        if (env != null) {
            env.daemon().kill(); // its store is gone; a SIGTERM stop may wait for it
            env.close();
        }
    }

    private static RawConnection.HttpAnswer health() throws Exception {
        try (RawConnection c = RawConnection.open(env.port())) {
            c.write("GET /health HTTP/1.0\r\n\r\n");
            return c.readHttpAnswer(Duration.ofSeconds(10));
        }
    }

    @Test
    @DisplayName("GET /health: 200 with a JSON body while the store is up, 503 after the store server stops; the daemon stays up")
    void healthFollowsTheStore() throws Exception {
        RawConnection.HttpAnswer up = health();
        // at once: the daemon announces "listening" on a reachable store
        assertEquals(200, up.status(), () -> up.statusLine() + "\n" + up.bodyText() + "\n--- daemon\n" + env.daemon().output());
        JsonNode body = JsonRpcClient.MAPPER.readTree(up.bodyText());
        assertTrue(body.isObject(), up.bodyText());

        env.store().close();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        RawConnection.HttpAnswer down = health();
        while (down.status() != 503 && System.nanoTime() < deadline) {
            Thread.sleep(200); // polling interval while the daemon notices the lost store
            down = health();
        }
        assertEquals(503, down.status(), down.statusLine() + "\n" + down.bodyText());
        assertTrue(env.daemon().isAlive());
    }
}
