package io.discoverd.it.robust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.discoverd.it.Backend;
import io.discoverd.it.EachBackend;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.http.GobWire;
import io.discoverd.it.http.RawConnection;
import io.discoverd.it.json.JsonRpcClient;
import io.discoverd.protocol.testing.WireCapture;
import java.io.ByteArrayOutputStream;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

/**
 * Bad input never takes the daemon down (PROTOCOL.md §2.6, §3.9; checklist #55; ARCHITECTURE.md
 * "Errors on the wire"): random and mutated bytes in both codecs, messages over {@code
 * maxMessageBytes}, attributes over {@code maxAttrsBytes}. At worst the offending connection
 * closes; parallel healthy connections and earlier registrations are unaffected.
 */
@EachBackend
class HostileInputTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    private static final int MAX_MESSAGE_BYTES = 65536;
    private static final int MAX_ATTRS_BYTES = 4096;
    private static final String PRE = "pre55";
    private static final int PRE_COUNT = 5;

    @TempDir
    static Path dir;
    static StoreAndDaemon env;
    static JsonRpcClient healthyJson;
    static RawConnection healthyGob;
    static GobWire.Writer healthyGobWriter;
    static GobWire.Reader healthyGobReader;
    static long gobSeq;

    @BeforeParameterizedClassInvocation
    static void start(Backend backend) throws Exception {
        env = StoreAndDaemon.start(backend, dir, "registrationTtl: 120s\nmaxMessageBytes: " + MAX_MESSAGE_BYTES
                + "\nmaxAttrsBytes: " + MAX_ATTRS_BYTES + "\n");
        healthyJson = JsonRpcClient.connect(env.port());
        for (int i = 1; i <= PRE_COUNT; i++) {
            healthyJson.register(PRE, "10.55.0." + i + ":55", Map.of("i", Integer.toString(i)));
        }
        healthyGob = RawConnection.upgraded(env.port(), RawConnection.GOB);
        healthyGob.setReadTimeout(Duration.ofSeconds(10));
        healthyGobWriter = new GobWire.Writer();
        healthyGobReader = new GobWire.Reader(healthyGob.input());
    }

    @AfterParameterizedClassInvocation
    static void stop() throws Exception {
        if (healthyJson != null) {
            healthyJson.close();
        }
        if (healthyGob != null) {
            healthyGob.close();
        }
        if (env != null) {
            env.close();
        }
    }

    /** The daemon is alive, both healthy connections answer, and the earlier registrations are all there. */
    private static void assertUnaffected(String after) throws Exception {
        assertTrue(env.daemon().isAlive(), "daemon died after " + after + ":\n" + env.daemon().output());
        assertEquals("127.0.0.1:5555", healthyJson.register("healthy55", ":5555", null), after);
        long seq = ++gobSeq;
        healthyGob.write(healthyGobWriter.request("Agent.Register", seq, "healthy55", ":5556", null));
        assertEquals(new GobWire.Response("Agent.Register", seq, "", "127.0.0.1:5556"), healthyGobReader.readResponse(), after);
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            Set<String> addrs = c.subscribe(PRE, "check").stream().map(u -> u.path("Addr").asText())
                    .collect(Collectors.toCollection(TreeSet::new));
            Set<String> expected = new TreeSet<>();
            for (int i = 1; i <= PRE_COUNT; i++) {
                expected.add("10.55.0." + i + ":55");
            }
            assertEquals(expected, addrs, "registrations made beforehand, after " + after);
        }
    }

    /** Every client-to-server RPC byte of a capture file (handshakes left out), connections concatenated. */
    private static byte[] clientBytes(String file, boolean json) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (WireCapture.Connection c : WireCapture.load(file)) {
            out.writeBytes(c.rpcBytes(WireCapture.Direction.C2S, json));
        }
        return out.toByteArray();
    }

    private static byte[] mutate(byte[] corpus, Random rnd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int start = rnd.nextInt(Math.max(1, corpus.length / 2));
        byte[] b = java.util.Arrays.copyOfRange(corpus, rnd.nextBoolean() ? 0 : start, corpus.length);
        int mutations = 1 + rnd.nextInt(8);
        for (int k = 0; k < mutations && b.length > 0; k++) {
            int at = rnd.nextInt(b.length);
            switch (rnd.nextInt(5)) {
                case 0 -> b[at] = (byte) rnd.nextInt(256);
                case 1 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
                case 2 -> b = java.util.Arrays.copyOf(b, at); // truncate
                case 3 -> { // duplicate a slice
                    int len = Math.min(b.length - at, 1 + rnd.nextInt(64));
                    byte[] c = new byte[b.length + len];
                    System.arraycopy(b, 0, c, 0, at + len);
                    System.arraycopy(b, at, c, at + len, b.length - at);
                    b = c;
                }
                default -> b[at] = (byte) (rnd.nextBoolean() ? 0xff : 0x00);
            }
        }
        out.writeBytes(b);
        return out.toByteArray();
    }

    @Test
    @DisplayName("#55 random and mutated bytes after the upgrade in gob and JSON (seeded): daemon stays up, healthy connections and registrations unaffected")
    void randomAndMutatedBytes() throws Exception {
        long seed = Long.getLong("discoverd.fuzzSeed", 55L);
        Random rnd = new Random(seed);
        byte[] gobCorpus = clientBytes("gob-session.txt", false);
        byte[] jsonCorpus = clientBytes("json-session.txt", true);
        byte[] jsonEdge = clientBytes("json-edge-cases.txt", true);
        int iterations = Integer.getInteger("discoverd.fuzzIterations", 600);
        long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        int done = 0;
        for (; done < iterations && System.nanoTime() < deadline; done++) {
            boolean json = rnd.nextBoolean();
            byte[] payload = switch (rnd.nextInt(3)) {
                case 0 -> {
                    byte[] r = new byte[1 + rnd.nextInt(2048)];
                    rnd.nextBytes(r);
                    yield r;
                }
                case 1 -> mutate(json ? jsonCorpus : gobCorpus, rnd);
                default -> mutate(json ? jsonEdge : gobCorpus, rnd);
            };
            try (RawConnection c = RawConnection.open(env.port())) {
                if (rnd.nextInt(10) == 0) {
                    c.write(payload); // garbage instead of an HTTP request
                } else {
                    c.write(RawConnection.connectRequest(json ? RawConnection.JSON : RawConnection.GOB));
                    c.expectConnected();
                    int cut = rnd.nextInt(payload.length + 1);
                    c.write(java.util.Arrays.copyOf(payload, cut));
                    c.write(java.util.Arrays.copyOfRange(payload, cut, payload.length));
                }
                c.awaitClosed(Duration.ofMillis(30)); // read what comes, then go away
                if (rnd.nextBoolean()) {
                    c.abort();
                }
            } catch (SocketException e) {
                // the daemon closed this connection while we wrote: allowed
            }
            if (done % 40 == 39) {
                assertUnaffected("iteration " + done + " (seed " + seed + ")");
            }
        }
        assertTrue(done >= 50, "only " + done + " iterations ran");
        assertUnaffected(done + " hostile connections (seed " + seed + ")");
    }

    @Test
    @DisplayName("#55 gob length prefix claiming 2^40 bytes: that connection is closed, others fine")
    void gobHugeLengthPrefixClosesConnection() throws Exception {
        try (RawConnection c = RawConnection.upgraded(env.port(), RawConnection.GOB)) {
            c.write(HexFormat.of().parseHex("fa010000000000" + "ff82010e"));
            assertTrue(c.awaitClosed(Duration.ofSeconds(5)), "connection still open");
        }
        assertUnaffected("2^40 length prefix");
    }

    @Test
    @DisplayName("#55 gob Register whose Args message exceeds maxMessageBytes: connection closed, nothing registered, others fine")
    void gobOversizedArgsClosesConnection() throws Exception {
        try (RawConnection c = RawConnection.upgraded(env.port(), RawConnection.GOB)) {
            GobWire.Writer w = new GobWire.Writer();
            c.write(w.request("Agent.Register", 0, "big55", "10.0.0.1:1", Map.of("k", "x".repeat(MAX_MESSAGE_BYTES + 10))));
            assertTrue(c.awaitClosed(Duration.ofSeconds(5)), "connection still open");
        } catch (SocketException e) {
            // closed while we were still writing: the expected outcome
        }
        assertUnaffected("oversized gob Args");
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            assertEquals(List.of(), c.subscribe("big55", "big"));
        }
    }

    @Test
    @DisplayName("#55 JSON request over maxMessageBytes: connection closed, nothing registered, others fine")
    void jsonOversizedRequestClosesConnection() throws Exception {
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            try {
                c.send("Agent.Register", JsonRpcClient.args("bigjson55", "10.0.0.1:1",
                        Map.of("k", "x".repeat(MAX_MESSAGE_BYTES + 10))), 1);
            } catch (SocketException e) {
                // closed while we were still writing
            }
            assertTrue(c.awaitClosed(Duration.ofSeconds(5)), "connection still open; got " + c.rawInbox());
            assertEquals(List.of(), c.rawInbox(), "no response expected");
        }
        assertUnaffected("oversized JSON request");
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            assertEquals(List.of(), c.subscribe("bigjson55", "big"));
        }
    }

    @Test
    @DisplayName("attrs over maxAttrsBytes, JSON: per-call error with result {}, connection continues")
    void jsonAttrsOverLimitIsCallError() throws Exception {
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            JsonRpcClient.Msg m = c.call("Agent.Register",
                    JsonRpcClient.args("attrs55", "10.0.0.1:1", Map.of("k", "y".repeat(MAX_ATTRS_BYTES + 1))));
            assertTrue(m.error() != null && !m.error().isEmpty(), m.raw());
            assertEquals(JsonRpcClient.MAPPER.createObjectNode(), m.result());
            assertEquals("10.0.0.1:2", c.register("attrs55", "10.0.0.1:2", Map.of("k", "small")));
            List<JsonNode> snap = c.subscribe("attrs55", "s");
            assertEquals(List.of("10.0.0.1:2"), snap.stream().map(u -> u.path("Addr").asText()).toList());
        }
        assertUnaffected("attrs over the limit (JSON)");
    }

    @Test
    @DisplayName("attrs over maxAttrsBytes, gob: per-call error response for that Seq, connection continues")
    void gobAttrsOverLimitIsCallError() throws Exception {
        try (RawConnection c = RawConnection.upgraded(env.port(), RawConnection.GOB)) {
            c.setReadTimeout(Duration.ofSeconds(10));
            GobWire.Writer w = new GobWire.Writer();
            GobWire.Reader r = new GobWire.Reader(c.input());
            c.write(w.request("Agent.Register", 7, "attrsgob55", "10.0.0.1:1", Map.of("k", "y".repeat(MAX_ATTRS_BYTES + 1))));
            GobWire.Response err = r.readResponse();
            assertEquals("Agent.Register", err.serviceMethod());
            assertEquals(7, err.seq());
            assertTrue(!err.error().isEmpty(), "expected an error");
            assertEquals(Map.of(), err.body(), "error body must be the empty struct");
            c.write(w.request("Agent.Register", 8, "attrsgob55", "10.0.0.1:2", Map.of("k", "small")));
            assertEquals(new GobWire.Response("Agent.Register", 8, "", "10.0.0.1:2"), r.readResponse());
        }
        assertUnaffected("attrs over the limit (gob)");
    }
}
