package io.discoverd.it.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.OnlyOn;
import io.discoverd.it.json.JsonRpcClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The single-host default: a daemon running its embedded ZooKeeper ({@code zookeeper.connect:
 * embedded}) and a second daemon joining it by its client port (ARCHITECTURE.md, backend-zookeeper;
 * PROTOCOL.md §5.9, checklist #46 and #49 on that setup).
 */
@OnlyOn(Backend.ZOOKEEPER)
class EmbeddedZooKeeperTest {

    @TempDir
    static Path dir;
    static int zkPort;
    static DaemonProcess first;
    static DaemonProcess second;

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        zkPort = freePort();
        Path a = dir.resolve("embedded");
        first = DaemonProcess.start(a, "backend: zookeeper\n"
                + "dataDir: " + a.resolve("data") + "\n"
                + "zookeeper:\n"
                + "  connect: embedded\n"
                + "  embedded:\n"
                + "    port: " + zkPort + "\n");
        Path b = dir.resolve("joiner");
        second = DaemonProcess.start(b, "backend: zookeeper\n"
                + "dataDir: " + b.resolve("data") + "\n"
                + "zookeeper:\n"
                + "  connect: 127.0.0.1:" + zkPort + "\n");
    }

    @AfterAll
    static void stop() throws Exception {
        if (second != null) {
            second.close();
        }
        if (first != null) {
            first.close();
        }
    }

    @Test
    @DisplayName("#46 #49 embedded ZooKeeper daemon and a daemon joining it: writes through either are read through the other with the same Created")
    void joinedDaemonSharesTheEmbeddedStore() throws Exception {
        try (JsonRpcClient c1 = JsonRpcClient.connect(first.port()); JsonRpcClient c2 = JsonRpcClient.connect(second.port())) {
            String viaFirst = c1.register("emb", ":1111", Map.of("via", "first"));
            List<JsonNode> snap2 = c2.subscribe("emb", "s2");
            assertEquals(1, snap2.size());
            assertEquals(viaFirst, snap2.get(0).path("Addr").asText());
            assertEquals("first", snap2.get(0).path("Attrs").path("via").asText());

            String viaSecond = c2.register("emb", ":2222", Map.of("via", "second"));
            List<JsonNode> snap1 = c1.subscribe("emb", "s1");
            assertEquals(2, snap1.size());
            long created1 = snap1.stream().filter(u -> u.path("Addr").asText().equals(viaFirst)).findFirst().orElseThrow()
                    .path("Created").asLong();
            long created2 = snap1.stream().filter(u -> u.path("Addr").asText().equals(viaSecond)).findFirst().orElseThrow()
                    .path("Created").asLong();
            assertEquals(snap2.get(0).path("Created").asLong(), created1);
            assertTrue(created1 < created2);
            JsonNode live = c2.takeId("s2").result();
            assertEquals(viaSecond, live.path("Addr").asText());
            assertEquals(created2, live.path("Created").asLong());

            JsonRpcClient.Msg l1 = c1.call("Agent.Leader", JsonRpcClient.args("emb", null, null));
            JsonRpcClient.Msg l2 = c2.call("Agent.Leader", JsonRpcClient.args("emb", null, null));
            assertNull(l1.error(), l1.raw());
            assertEquals(l1.result(), l2.result());
            assertEquals(viaFirst, l1.result().path("Addr").asText());

            c2.unregister("emb", ":1111");
            assertEquals(List.of(viaSecond), c1.subscribe("emb", "s3").stream().map(u -> u.path("Addr").asText()).toList());
        }
    }
}
