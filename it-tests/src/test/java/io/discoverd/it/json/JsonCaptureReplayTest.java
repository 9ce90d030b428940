package io.discoverd.it.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.discoverd.it.Backend;
import io.discoverd.it.EachBackend;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.http.RawConnection;
import io.discoverd.it.json.JsonRpcClient.Msg;
import io.discoverd.protocol.testing.WireCapture.Direction;
import io.discoverd.protocol.testing.WireCapture.Message;
import io.discoverd.protocol.testing.WireCapture;
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
 * Replays the JSON captures against the packaged daemon and checks the JSON request shapes of
 * PROTOCOL.md §4 (checklist §8.6). Server output is compared as parsed JSON; {@code Created} by
 * relation only (README of testdata/wire).
 */
@EachBackend
class JsonCaptureReplayTest {

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
            env.close();
        }
    }

    @Test
    @DisplayName("#50 json-session.txt replayed: same parsed responses, EOS after CloseStream, no later sub-a item")
    void replayJsonSession() throws Exception {
        replay("json-session.txt");
    }

    @Test
    @DisplayName("#51 json-edge-cases.txt replayed: same parsed responses, decoder texts free, closed after garbage")
    void replayJsonEdgeCases() throws Exception {
        replay("json-edge-cases.txt");
    }

    @Test
    @DisplayName("#52 Register without params as first request, then params null: error responses, connection keeps working")
    void missingAndNullParamsAreCallErrors() throws Exception {
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            c.sendLine("{\"method\":\"Agent.Register\",\"id\":1}");
            Msg first = c.takeId(1);
            assertEquals(JsonRpcClient.MAPPER.createObjectNode(), first.result(), first.raw());
            assertTrue(first.error() != null && !first.error().isEmpty(), first.raw());

            c.sendLine("{\"method\":\"Agent.Register\",\"params\":null,\"id\":2}");
            Msg second = c.takeId(2);
            assertEquals(JsonRpcClient.MAPPER.createObjectNode(), second.result(), second.raw());
            assertTrue(second.error() != null && !second.error().isEmpty(), second.raw());

            for (String m : List.of("Agent.Unregister", "Agent.Subscribe", "Agent.Leader")) {
                c.sendLine("{\"method\":\"" + m + "\",\"params\":null,\"id\":\"" + m + "\"}");
                Msg r = c.takeId(m);
                assertTrue(r.error() != null && !r.error().isEmpty(), r.raw());
            }

            assertEquals("127.0.0.1:5252", c.register("shapes52", ":5252", null));
            assertFalse(c.isClosed());
        }
    }

    @Test
    @DisplayName("#53 ids 1, \"x\", [1, 2], { \"k\" : true }, null, 1e1 and absent are echoed as compact text")
    void idsAreEchoedAsCompactText() throws Exception {
        String[][] cases = {
                {"1", "1"}, {"\"x\"", "\"x\""}, {"[1, 2]", "[1,2]"}, {"{ \"k\" : true }", "{\"k\":true}"},
                {"null", "null"}, {"1e1", "1e1"}, {null, "null"}};
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            int port = 5300;
            for (String[] cs : cases) {
                port++;
                String request = "{\"method\":\"Agent.Register\",\"params\":[{\"Name\":\"ids53\",\"Addr\":\":" + port + "\"}]"
                        + (cs[0] == null ? "" : ",\"id\":" + cs[0]) + "}";
                c.sendLine(request);
                JsonNode expectedId = JsonRpcClient.MAPPER.readTree(cs[1]);
                Msg m = c.take(x -> x.hasId(expectedId), Duration.ofSeconds(10), "reply to " + request);
                assertEquals("{\"id\":" + cs[1] + ",\"result\":\"127.0.0.1:" + port + "\",\"error\":null}", m.raw(),
                        "reply to " + request);
            }
        }
    }

    @Test
    @DisplayName("#54 CloseStream naming a live JSON stream: EOS final frame, nothing after it, no response to CloseStream")
    void closeStreamEndsJsonStream() throws Exception {
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            c.register("close54", "10.5.4.1:1", null);
            List<JsonNode> snapshot = c.subscribe("close54", "s54");
            assertEquals(1, snapshot.size());

            long sent = System.nanoTime();
            c.closeStream("s54");
            Msg eos = c.takeId("s54");
            assertTrue(Duration.ofNanos(eos.at() - sent).compareTo(Duration.ofSeconds(1)) < 0, "EOS not within 1 s");
            assertEquals(JsonRpcClient.MAPPER.readTree("{\"id\":\"s54\",\"result\":{},\"error\":\"EOS\"}"), eos.node());

            // A change to the name after the EOS must not reach the closed stream.
            c.register("close54", "10.5.4.1:2", null);
            c.unregister("close54", "10.5.4.1:1");
            List<Msg> after = c.takeAllWithin(m -> true, Duration.ofMillis(700));
            assertEquals(List.of(), after.stream().map(Msg::raw).toList(), "nothing may follow the EOS frame");
        }
    }

    // ---------------------------------------------------------------- replay engine

    /** Created values seen: (recorded value, our value), checked by relation at the end. */
    private record CreatedPair(long recorded, long actual) {
    }

    private void replay(String file) throws Exception {
        List<WireCapture.Connection> connections = WireCapture.load(file);
        assertEquals(1, connections.size(), file);
        List<Message> messages = connections.get(0).messages();
        Message handshake = messages.get(0);
        assertTrue(handshake.direction() == Direction.C2S);
        RawConnection raw = RawConnection.open(env.port());
        raw.write(handshake.bytes());
        raw.expectConnected();
        List<CreatedPair> created = new ArrayList<>();
        try (JsonRpcClient c = JsonRpcClient.over(raw)) {
            int i = 2;
            while (i < messages.size()) {
                Message request = messages.get(i++);
                assertEquals(Direction.C2S, request.direction(), "capture step at " + request.text());
                List<JsonNode> expected = new ArrayList<>();
                boolean expectClose = false;
                for (; i < messages.size() && messages.get(i).direction() == Direction.S2C; i++) {
                    Message m = messages.get(i);
                    if (m.tagged("[original-only]")) {
                        continue;
                    }
                    if (m.close()) {
                        expectClose = true;
                    } else {
                        expected.add(JsonRpcClient.MAPPER.readTree(m.text()));
                    }
                }
                c.sendLine(request.text());
                List<Msg> actual = new ArrayList<>();
                for (int k = 0; k < expected.size(); k++) {
                    actual.add(c.take(m -> true, Duration.ofSeconds(10),
                            "response " + (k + 1) + " of " + expected.size() + " to " + request.text()));
                }
                matchStep(request.text(), expected, actual, created);
                if (expectClose) {
                    assertTrue(c.awaitClosed(Duration.ofSeconds(5)), "connection not closed after " + request.text());
                }
            }
            List<Msg> extra = c.takeAllWithin(m -> true, Duration.ofMillis(700));
            assertEquals(List.of(), extra.stream().map(Msg::raw).toList(), "responses beyond the capture");
        }
        checkCreatedRelations(created);
    }

    /**
     * Matches one step's responses: as a multiset, in order per id, except that snapshot items (online
     * items followed by their stream's sentinel in the same step) may come in any order.
     */
    private static void matchStep(String request, List<JsonNode> expected, List<Msg> actual, List<CreatedPair> created) {
        List<JsonNode> open = new ArrayList<>(expected);
        for (Msg a : actual) {
            JsonNode chosen = null;
            boolean skipped = false;
            for (JsonNode e : open) {
                if (!e.path("id").equals(a.id())) {
                    continue;
                }
                if (matches(e, a.node(), new ArrayList<>())) {
                    // Skipping earlier messages of this id is allowed only within a snapshot.
                    if (!skipped || isSnapshotItem(e, open)) {
                        chosen = e;
                    }
                    break;
                }
                if (!isSnapshotItem(e, open)) {
                    break;
                }
                skipped = true;
            }
            if (chosen == null) {
                throw new AssertionError("after " + request + ": unexpected or out-of-order response " + a.raw()
                        + "; still expected: " + open);
            }
            List<CreatedPair> pairs = new ArrayList<>();
            matches(chosen, a.node(), pairs);
            created.addAll(pairs);
            open.remove(chosen);
        }
        assertTrue(open.isEmpty(), "after " + request + " missing: " + open);
    }

    private static boolean isSnapshotItem(JsonNode e, List<JsonNode> step) {
        if (!e.path("result").path("Online").asBoolean(false)) {
            return false;
        }
        boolean after = false;
        for (JsonNode x : step) {
            if (x == e) {
                after = true;
            } else if (after && x.path("id").equals(e.path("id")) && x.path("error").isNull()
                    && x.path("result").path("Addr").asText("-").isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** Structural equality with the capture's rules: Created by relation, decoder error texts free. */
    private static boolean matches(JsonNode expected, JsonNode actual, List<CreatedPair> created) {
        if (expected.isObject()) {
            if (!actual.isObject() || expected.size() != actual.size()) {
                return false;
            }
            for (Map.Entry<String, JsonNode> f : expected.properties()) {
                JsonNode a = actual.get(f.getKey());
                if (a == null) {
                    return false;
                }
                if (f.getKey().equals("Created") && f.getValue().isIntegralNumber()) {
                    if (!a.isIntegralNumber() || a.asLong() < 0) {
                        return false;
                    }
                    if (f.getValue().asLong() == 0) {
                        if (a.asLong() != 0) {
                            return false;
                        }
                    } else if (a.asLong() <= 0) {
                        return false;
                    } else {
                        created.add(new CreatedPair(f.getValue().asLong(), a.asLong()));
                    }
                    continue;
                }
                if (f.getKey().equals("error") && f.getValue().isTextual() && isFreeText(f.getValue().asText())) {
                    if (!a.isTextual() || a.asText().isEmpty()) {
                        return false;
                    }
                    continue;
                }
                if (!matches(f.getValue(), a, created)) {
                    return false;
                }
            }
            return true;
        }
        if (expected.isArray()) {
            if (!actual.isArray() || expected.size() != actual.size()) {
                return false;
            }
            for (int i = 0; i < expected.size(); i++) {
                if (!matches(expected.get(i), actual.get(i), created)) {
                    return false;
                }
            }
            return true;
        }
        return expected.equals(actual);
    }

    /** Error texts of the original's JSON decoder are implementation-defined (README of testdata/wire). */
    private static boolean isFreeText(String error) {
        return !error.startsWith("rpc: ") && !error.startsWith("discoverd: ") && !error.equals("EOS");
    }

    private static void checkCreatedRelations(List<CreatedPair> pairs) {
        assertFalse(pairs.isEmpty(), "the replay saw no Created value");
        for (CreatedPair p : pairs) {
            for (CreatedPair q : pairs) {
                assertEquals(Long.signum(p.recorded() - q.recorded()), Long.signum(p.actual() - q.actual()),
                        "Created relation differs from the recording: " + p + " vs " + q);
            }
        }
    }

    static void assertNoError(Msg m) {
        assertNull(m.error(), m.raw());
    }
}
