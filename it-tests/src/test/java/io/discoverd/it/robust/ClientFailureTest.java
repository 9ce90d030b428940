package io.discoverd.it.robust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.discoverd.it.Backend;
import io.discoverd.it.EachBackend;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.http.RawConnection;
import io.discoverd.it.json.JsonRpcClient.Msg;
import io.discoverd.it.json.JsonRpcClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

/**
 * Clients that fail: one that vanishes with open streams (checklist #40, PROTOCOL.md §1.5, §5.6)
 * and one that stops reading while updates flow (PROTOCOL.md §5.5.5, ARCHITECTURE.md "Threading").
 * The daemon runs with a 2 s registration TTL and a 64 KiB subscriber queue.
 */
@EachBackend
class ClientFailureTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    private static final Duration TTL = Duration.ofSeconds(2);
    private static final int QUEUE_BYTES = 65536;

    @TempDir
    static Path dir;
    static StoreAndDaemon env;

    @BeforeParameterizedClassInvocation
    static void start(Backend backend) throws Exception {
        env = StoreAndDaemon.start(backend, dir, "registrationTtl: 2s\nsubscriberQueueBytes: " + QUEUE_BYTES + "\n");
    }

    @AfterParameterizedClassInvocation
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @Test
    @DisplayName("#40 #36 client vanishes with open streams: daemon keeps serving; its registration stays until the 2 s TTL, not the disconnect; registered again it has a larger Created")
    void vanishingClientKeepsRegistrationUntilTtl() throws Exception {
        String name = "vanish40";
        try (JsonRpcClient watcher = JsonRpcClient.connect(env.port())) {
            watcher.subscribe(name, "w");
            JsonRpcClient gone = JsonRpcClient.connect(env.port());
            gone.subscribe(name, "g1");
            gone.subscribe(name + "-other", "g2");
            long sent = System.nanoTime();
            assertEquals("127.0.0.1:4040", gone.register(name, ":4040", null));
            JsonNode online = watcher.takeId("w").result();
            assertEquals("127.0.0.1:4040", online.path("Addr").asText());
            assertTrue(online.path("Online").asBoolean());
            gone.abort(); // reset, with two streams open
            long closed = System.nanoTime();

            assertEquals("127.0.0.1:4041", watcher.register(name + "-alive", ":4041", null), "daemon must keep serving");
            Msg offline = watcher.take(m -> m.hasId(JsonRpcClient.MAPPER.valueToTree("w")), Duration.ofSeconds(8),
                    "offline item after the TTL");
            assertEquals("127.0.0.1:4040", offline.result().path("Addr").asText());
            assertTrue(!offline.result().path("Online").asBoolean(), offline.raw());
            long afterRegister = Duration.ofNanos(offline.at() - sent).toMillis();
            long afterClose = Duration.ofNanos(offline.at() - closed).toMillis();
            // The deadline is at least TTL after the Register was sent; it SHOULD fire within 1 s after it.
            assertTrue(afterRegister >= TTL.toMillis() - 10, "offline " + afterRegister + " ms after the Register: before the TTL");
            assertTrue(afterRegister <= TTL.toMillis() + 2000, "offline only " + afterRegister + " ms after the Register");
            assertTrue(afterClose >= 1000, "offline " + afterClose + " ms after the disconnect: tied to the connection");
            // Registered again after the expiry: a new instance with a larger Created (#36).
            watcher.register(name, ":4040", null);
            JsonNode again = watcher.take(m -> m.hasId(JsonRpcClient.MAPPER.valueToTree("w"))
                    && m.result().path("Online").asBoolean(), Duration.ofSeconds(5), "online again").result();
            assertTrue(again.path("Created").asLong() > online.path("Created").asLong(), again.toString());
            assertTrue(env.daemon().isAlive());
        }
    }

    @Test
    @DisplayName("§5.5.5 subscriber that never reads while many updates flow: its connection is closed; a normal subscriber receives every update")
    void slowSubscriberIsDisconnected() throws Exception {
        String name = "slow555";
        int updates = 1500;
        String pad = "p".repeat(3000);
        RawConnection slow = RawConnection.open(env.port(), 4096);
        slow.write(RawConnection.connectRequest(RawConnection.JSON));
        slow.expectConnected();
        slow.write(JsonRpcClient.request("Agent.Subscribe", JsonRpcClient.args(name, null, null), "slow") + "\n");
        String sentinel = readLine(slow);
        assertTrue(sentinel.contains("\"Addr\":\"\""), sentinel);
        // From here on the slow client reads nothing until the burst is over.

        try (JsonRpcClient normal = JsonRpcClient.connect(env.port()); JsonRpcClient writer = JsonRpcClient.connect(env.port())) {
            normal.subscribe(name, "n");
            int batch = 100;
            for (int from = 0; from < updates; from += batch) {
                StringBuilder lines = new StringBuilder();
                List<String> ids = new ArrayList<>();
                for (int i = from; i < from + batch; i++) {
                    String id = "u" + i;
                    ids.add(id);
                    ObjectNode args = JsonRpcClient.args(name, ":5555", Map.of("seq", Integer.toString(i), "pad", pad));
                    lines.append(JsonRpcClient.request("Agent.Register", args, id)).append('\n');
                }
                writer.sendLine(lines.substring(0, lines.length() - 1));
                for (String id : ids) {
                    Msg m = writer.takeId(id);
                    assertEquals(null, m.error(), m.raw());
                }
            }
            for (int i = 0; i < updates; i++) {
                Msg m = normal.take(x -> x.hasId(JsonRpcClient.MAPPER.valueToTree("n")), Duration.ofSeconds(20), "item " + i);
                assertEquals(Integer.toString(i), m.result().path("Attrs").path("seq").asText(), "normal subscriber, item " + i);
            }
            assertTrue(slow.awaitClosed(Duration.ofSeconds(20)),
                    "the slow subscriber's connection was not closed after ~" + (updates * 3) / 1024 + " MiB of items");
            assertTrue(env.daemon().isAlive());
            assertEquals("127.0.0.1:5556", writer.register(name + "-after", ":5556", null));
        } finally {
            slow.close();
        }
    }

    private static String readLine(RawConnection c) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = c.readExactly(1, Duration.ofSeconds(10))[0];
            if (b == '\n') {
                return line.toString(java.nio.charset.StandardCharsets.UTF_8);
            }
            line.write(b);
        }
    }
}
