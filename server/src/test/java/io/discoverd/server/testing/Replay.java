package io.discoverd.server.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.discoverd.protocol.gob.GobValues;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Replays a capture's client bytes against a daemon and compares the daemon's decoded responses
 * with the recording (testdata/wire/README.md, "How to use them"): per call key in order (snapshot
 * items in any order, the sentinel and final frames last), error texts other than {@code rpc:},
 * {@code discoverd:} and {@code EOS} only as non-empty, {@code Created} by relation.
 */
public final class Replay {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One decoded response, normalised. */
    record Frame(String key, String canonical, boolean terminal, String instance, long created) {
    }

    private final List<long[]> createdPairs = new ArrayList<>();
    private final Map<String, List<Long>> expectedCreated = new HashMap<>();
    private final Map<String, List<Long>> actualCreated = new HashMap<>();

    private Replay() {
    }

    /** Replays every connection of a JSON capture. */
    public static void json(int port, String file) throws IOException {
        for (Capture.Connection conn : Capture.read(file)) {
            new Replay().runJson(port, conn);
        }
    }

    /** Replays every connection of a gob capture. */
    public static void gob(int port, String file) throws Exception {
        for (Capture.Connection conn : Capture.read(file)) {
            new Replay().runGob(port, conn);
        }
    }

    private void runJson(int port, Capture.Connection conn) throws IOException {
        try (WireClient client = new WireClient(port)) {
            List<Capture.Message> msgs = conn.messages();
            int i = handshake(client, msgs);
            while (i < msgs.size()) {
                List<Capture.Message> sent = new ArrayList<>();
                while (i < msgs.size() && msgs.get(i).fromClient()) {
                    sent.add(msgs.get(i++));
                }
                List<Frame> expected = new ArrayList<>();
                boolean expectClose = false;
                while (i < msgs.size() && !msgs.get(i).fromClient()) {
                    Capture.Message m = msgs.get(i++);
                    if (m.close()) {
                        expectClose = true;
                    } else if (!m.originalOnly()) {
                        expected.add(jsonFrame(m.text(), expectedCreated));
                    }
                }
                for (Capture.Message m : sent) {
                    client.write(m.text() + "\n");
                }
                List<Frame> actual = new ArrayList<>();
                for (int n = 0; n < expected.size(); n++) {
                    String line = client.readLine();
                    assertTrue(line != null, conn.title() + ": connection closed, expected " + expected);
                    actual.add(jsonFrame(line, actualCreated));
                }
                compare(conn.title() + " after " + sent.get(sent.size() - 1).text(), expected, actual);
                if (expectClose) {
                    assertTrue(client.closedByPeer(), conn.title() + ": the server should close the connection");
                }
            }
            checkCreatedRelation(conn.title());
        }
    }

    private void runGob(int port, Capture.Connection conn) throws Exception {
        GobStream expectedStream = new GobStream();
        GobStream actualStream = new GobStream();
        try (WireClient client = new WireClient(port)) {
            List<Capture.Message> msgs = conn.messages();
            int i = handshake(client, msgs);
            while (i < msgs.size()) {
                java.io.ByteArrayOutputStream sent = new java.io.ByteArrayOutputStream();
                String last = "";
                while (i < msgs.size() && msgs.get(i).fromClient()) {
                    sent.write(msgs.get(i).payload());
                    last = msgs.get(i++).annotation();
                }
                List<Object> expectedValues = new ArrayList<>();
                boolean expectClose = false;
                while (i < msgs.size() && !msgs.get(i).fromClient()) {
                    Capture.Message m = msgs.get(i++);
                    if (m.close()) {
                        expectClose = true;
                    } else if (!m.originalOnly()) {
                        expectedValues.addAll(expectedStream.feed(m.payload()));
                    }
                }
                client.write(sent.toByteArray());
                List<Object> actualValues = actualStream.readValues(client, expectedValues.size());
                compare(conn.title() + " after " + last, gobFrames(expectedValues, expectedCreated),
                        gobFrames(actualValues, actualCreated));
                if (expectClose) {
                    assertTrue(client.closedByPeer(), conn.title() + ": the server should close the connection");
                }
            }
            checkCreatedRelation(conn.title());
        }
    }

    private static int handshake(WireClient client, List<Capture.Message> msgs) throws IOException {
        assertTrue(msgs.get(0).fromClient() && !msgs.get(1).fromClient());
        client.write(msgs.get(0).payload());
        byte[] answer = msgs.get(1).payload();
        assertArrayEquals(answer, client.readExactly(answer.length));
        return 2;
    }

    private static Frame jsonFrame(String line, Map<String, List<Long>> created) throws IOException {
        JsonNode node = JSON.readTree(line);
        String key = node.get("id").toString();
        JsonNode result = node.get("result");
        JsonNode error = node.get("error");
        String instance = null;
        long c = 0;
        Map<String, Object> canon = new TreeMap<>();
        canon.put("id", key);
        canon.put("error", error.isNull() ? null : normaliseError(error.asText()));
        if (result.isObject() && result.has("Created")) {
            ObjectNode r = result.deepCopy();
            c = r.get("Created").asLong();
            if (c > 0) {
                instance = r.get("Name").asText() + "|" + r.get("Addr").asText();
                created.computeIfAbsent(instance, k -> new ArrayList<>()).add(c);
                r.put("Created", "positive");
            }
            canon.put("result", r.toString());
        } else {
            canon.put("result", result.toString());
        }
        boolean terminal = !error.isNull() || isJsonSentinel(result);
        return new Frame(key, canon.toString(), terminal, instance, c);
    }

    private static boolean isJsonSentinel(JsonNode result) {
        return result.isObject() && result.has("Addr") && result.get("Addr").asText().isEmpty()
                && result.get("Name").asText().isEmpty();
    }

    private static List<Frame> gobFrames(List<Object> values, Map<String, List<Long>> created) {
        assertEquals(0, values.size() % 2, "gob responses come as header and body: " + values);
        List<Frame> frames = new ArrayList<>();
        for (int i = 0; i < values.size(); i += 2) {
            GobValues.Struct header = (GobValues.Struct) values.get(i);
            Object body = values.get(i + 1);
            String sm = (String) header.get("ServiceMethod", "");
            String seq = Long.toUnsignedString(((Number) header.get("Seq", 0L)).longValue());
            String error = (String) header.get("Error", "");
            Map<String, Object> canon = new TreeMap<>();
            canon.put("method", sm);
            canon.put("seq", seq);
            canon.put("error", error.isEmpty() ? null : normaliseError(error));
            String instance = null;
            long c = 0;
            boolean sentinel = false;
            if (body instanceof GobValues.Struct s) {
                Map<String, Object> fields = new TreeMap<>(s.fields());
                if (fields.get("Created") instanceof Number n && n.longValue() != 0) {
                    c = n.longValue();
                    instance = fields.get("Name") + "|" + fields.get("Addr");
                    created.computeIfAbsent(instance, k -> new ArrayList<>()).add(c);
                    fields.put("Created", "positive");
                }
                sentinel = error.isEmpty() && fields.isEmpty() && isUpdateMethod(sm);
                canon.put("body", new LinkedHashMap<>(fields).toString());
            } else {
                canon.put("body", String.valueOf(body));
            }
            frames.add(new Frame(seq, canon.toString(), !error.isEmpty() || sentinel, instance, c));
        }
        return frames;
    }

    private static boolean isUpdateMethod(String sm) {
        return sm.equals("Agent.Subscribe");
    }

    private static String normaliseError(String e) {
        if (e.startsWith("rpc: ") || e.startsWith("discoverd: ") || e.equals("EOS") || e.startsWith("100: Key not found (")) {
            return e.startsWith("100: Key not found (") ? "100: Key not found (..." : e;
        }
        return e.isEmpty() ? "" : "<decoder error>";
    }

    private static void compare(String where, List<Frame> expected, List<Frame> actual) {
        Map<String, List<Frame>> exp = byKey(expected);
        Map<String, List<Frame>> act = byKey(actual);
        assertEquals(exp.keySet(), act.keySet(), where + ": calls answered; expected " + expected + " got " + actual);
        for (String key : exp.keySet()) {
            List<Frame> e = exp.get(key);
            List<Frame> a = act.get(key);
            assertEquals(sorted(e), sorted(a), where + ": responses for " + key);
            Frame lastE = e.get(e.size() - 1);
            if (lastE.terminal()) {
                assertEquals(lastE.canonical(), a.get(a.size() - 1).canonical(), where + ": last response for " + key);
            }
        }
    }

    private static Map<String, List<Frame>> byKey(List<Frame> frames) {
        Map<String, List<Frame>> m = new TreeMap<>();
        for (Frame f : frames) {
            m.computeIfAbsent(f.key(), k -> new ArrayList<>()).add(f);
        }
        return m;
    }

    private static List<String> sorted(List<Frame> frames) {
        return frames.stream().map(Frame::canonical).sorted().toList();
    }

    /** Created: same instance → same value; order between instances as recorded (PROTOCOL.md §6.1). */
    private void checkCreatedRelation(String where) {
        assertEquals(expectedCreated.keySet(), actualCreated.keySet(), where + ": instances seen");
        for (String inst : expectedCreated.keySet()) {
            List<Long> e = expectedCreated.get(inst);
            List<Long> a = actualCreated.get(inst);
            assertEquals(e.size(), a.size(), where + ": items of " + inst);
            for (int i = 0; i < e.size(); i++) {
                createdPairs.add(new long[] {e.get(i), a.get(i)});
            }
        }
        for (long[] p : createdPairs) {
            for (long[] q : createdPairs) {
                assertEquals(Long.signum(Long.compareUnsigned(p[0], q[0])), Long.signum(Long.compareUnsigned(p[1], q[1])),
                        where + ": Created relation of recorded " + p[0] + "/" + q[0] + " vs actual " + p[1] + "/" + q[1]);
            }
        }
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
