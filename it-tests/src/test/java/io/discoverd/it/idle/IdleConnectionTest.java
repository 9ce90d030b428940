package io.discoverd.it.idle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.discoverd.it.Backend;
import io.discoverd.it.OnlyOn;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.http.GobWire;
import io.discoverd.it.http.RawConnection;
import io.discoverd.it.json.JsonRpcClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upgraded connections are never closed for being idle (PROTOCOL.md §1.5, checklist #8). The idle
 * period is {@code -Ddiscoverd.idleMinutes=N} minutes, 10 by default (the checklist's value); it is
 * the only long test, so it is ordered first and runs concurrently with the other classes
 * (junit-platform.properties). It runs on ZooKeeper only: idleness is the listener's business, not
 * the store's, and one 10-minute run per suite is enough.
 */
@OnlyOn(Backend.ZOOKEEPER)
@Order(1)
class IdleConnectionTest {

    /** Idle period in minutes, from {@code -Ddiscoverd.idleMinutes} (default 10). */
    static final Duration IDLE = Duration.ofMinutes(Long.getLong("discoverd.idleMinutes", 10L));

    @TempDir
    static Path dir;
    static StoreAndDaemon env;

    @BeforeAll
    static void start() throws Exception {
        env = StoreAndDaemon.start(Backend.ZOOKEEPER, dir, "");
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @Test
    @DisplayName("#8 upgraded JSON and gob connections idle for discoverd.idleMinutes (10), with and without an open subscription, stay open and working")
    void idleConnectionsStayOpen() throws Exception {
        String name = "idle8";
        try (JsonRpcClient plain = JsonRpcClient.connect(env.port());
             JsonRpcClient subscribed = JsonRpcClient.connect(env.port());
             RawConnection gob = RawConnection.upgraded(env.port(), RawConnection.GOB);
             RawConnection gobSubscribed = RawConnection.upgraded(env.port(), RawConnection.GOB)) {
            // Each connection does one round trip first, so the idle period starts on a working session.
            assertEquals("127.0.0.1:8001", plain.register(name + "-warmup", ":8001", null));
            assertEquals(List.of(), subscribed.subscribe(name, "idle-sub"));
            GobWire.Writer gw = new GobWire.Writer();
            GobWire.Reader gr = new GobWire.Reader(gob.input());
            gob.setReadTimeout(Duration.ofSeconds(10));
            gob.write(gw.request("Agent.Register", 0, name + "-warmup", ":8002", null));
            assertEquals(new GobWire.Response("Agent.Register", 0, "", "127.0.0.1:8002"), gr.readResponse());
            GobWire.Writer sw = new GobWire.Writer();
            GobWire.Reader sr = new GobWire.Reader(gobSubscribed.input());
            gobSubscribed.setReadTimeout(Duration.ofSeconds(10));
            gobSubscribed.write(sw.request("Agent.Subscribe", 5, name, "", null));
            GobWire.Response sentinel = sr.readResponse();
            assertEquals(new GobWire.Response("Agent.Subscribe", 5, "", Map.of()), sentinel);

            long idleStart = System.nanoTime();
            Thread.sleep(IDLE.toMillis()); // the idle period is the scenario itself

            String diagnosis = "idle period started at nanoTime " + idleStart + "; plain " + plain.closeCause()
                    + "; subscribed " + subscribed.closeCause() + "\ndaemon output:\n" + env.daemon().output();
            assertFalse(plain.isClosed(), "idle JSON connection was closed: " + diagnosis);
            assertFalse(subscribed.isClosed(), "idle subscribed JSON connection was closed: " + diagnosis);
            assertTrue(env.daemon().isAlive());
            // A Register on the idle connection gets its reply; both idle subscriptions receive its item.
            assertEquals("127.0.0.1:8080", plain.register(name, ":8080", Map.of("after", "idle")));
            JsonNode item = subscribed.takeId("idle-sub").result();
            assertEquals("127.0.0.1:8080", item.path("Addr").asText());
            assertTrue(item.path("Online").asBoolean());
            GobWire.Response gobItem = sr.readResponse();
            assertEquals("Agent.Subscribe", gobItem.serviceMethod());
            assertEquals(5, gobItem.seq());
            assertEquals("127.0.0.1:8080", ((Map<?, ?>) gobItem.body()).get("Addr"));
            // The idle gob connection without a subscription answers too.
            gob.write(gw.request("Agent.Register", 1, name, ":8081", null));
            assertEquals(new GobWire.Response("Agent.Register", 1, "", "127.0.0.1:8081"), gr.readResponse());
            assertEquals("127.0.0.1:8082", subscribed.register(name, ":8082", null));
        }
    }
}
