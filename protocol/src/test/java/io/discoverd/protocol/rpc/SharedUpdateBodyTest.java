package io.discoverd.protocol.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.discoverd.protocol.PreparedUpdate;
import io.discoverd.protocol.ServiceUpdate;
import io.discoverd.protocol.gob.GobServerCodec;
import io.discoverd.protocol.jsonrpc.JsonServerCodec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Update bodies encoded once in a {@link PreparedUpdate} and shared by every stream and connection
 * (ARCHITECTURE.md, "Threading") give the same bytes as the per-stream encoding they replaced, in
 * both codecs, including the type definitions a fresh gob connection sends first.
 */
class SharedUpdateBodyTest {

    private static final int MAX = 1 << 20;

    private static final RpcRequest SUBSCRIBE = new RpcRequest("Agent.Subscribe", 3, "3", null, null);
    private static final RpcRequest LEADER = new RpcRequest("Agent.Leader", 0, "\"abc\"", null, null);
    private static final RpcRequest REGISTER = new RpcRequest("Agent.Register", 1, "null", null, null);
    private static final RpcRequest SUBSCRIBE_300 = new RpcRequest("Agent.Subscribe", 300, "{\"a\":[1]}", null, null);

    /** Online with attrs (non-ASCII, HTML characters), nil attrs, empty attrs, offline, sentinel. */
    private static List<ServiceUpdate> updates() {
        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put("foo", "bar");
        attrs.put("a", "");
        attrs.put("\u00e9t\u00e9", "\uD83D\uDE00<&>");
        return List.of(
                ServiceUpdate.online("web", "10.0.0.1:80", attrs, 5),
                ServiceUpdate.online("web", "10.0.0.2:80", null, 1L << 40),
                ServiceUpdate.online("web", "10.0.0.3:80", Map.of(), -1L),
                ServiceUpdate.offline("web", "10.0.0.1:80"),
                ServiceUpdate.SENTINEL);
    }

    /** The recorded frames of one codec, by connection name, in call order. */
    private static Map<String, List<byte[]>> recorded(String codec) throws IOException {
        Map<String, List<byte[]>> frames = new LinkedHashMap<>();
        try (InputStream in = SharedUpdateBodyTest.class.getResourceAsStream("frames-before-sharing.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                String[] f = line.split(" ");
                if (!line.startsWith("#") && f[0].equals(codec)) {
                    frames.computeIfAbsent(f[1], k -> new ArrayList<>()).add(HexFormat.of().parseHex(f[2]));
                }
            }
        }
        return frames;
    }

    /**
     * Connection A: five updates on one stream (the first with every definition), EOS, a Leader
     * reply. B: a string reply and an error first (some definitions sent), then the updates. C: the
     * sentinel first. The prepared updates are shared by all three connections.
     */
    private static Map<String, List<byte[]>> scenario(Supplier<ServerCodec> fresh, List<PreparedUpdate> prepared) {
        Map<String, List<byte[]>> frames = new LinkedHashMap<>();
        ServerCodec a = fresh.get();
        List<byte[]> fa = frames.computeIfAbsent("A", k -> new ArrayList<>());
        for (PreparedUpdate u : prepared) {
            fa.add(a.encodeUpdate(SUBSCRIBE, u));
        }
        fa.add(a.encodeError(SUBSCRIBE, "EOS"));
        fa.add(a.encodeUpdate(LEADER, prepared.get(0)));
        ServerCodec b = fresh.get();
        List<byte[]> fb = frames.computeIfAbsent("B", k -> new ArrayList<>());
        fb.add(b.encodeString(REGISTER, "x"));
        fb.add(b.encodeError(REGISTER, "boom"));
        for (PreparedUpdate u : prepared) {
            fb.add(b.encodeUpdate(SUBSCRIBE_300, u));
        }
        ServerCodec c = fresh.get();
        List<byte[]> fc = frames.computeIfAbsent("C", k -> new ArrayList<>());
        fc.add(c.encodeUpdate(SUBSCRIBE, prepared.get(4)));
        fc.add(c.encodeUpdate(SUBSCRIBE, prepared.get(3)));
        return frames;
    }

    private static Supplier<ServerCodec> codec(String name) {
        return name.equals("gob") ? () -> new GobServerCodec(MAX) : () -> new JsonServerCodec(MAX);
    }

    private static List<PreparedUpdate> prepare(List<ServiceUpdate> updates) {
        return updates.stream().map(u -> u.isSentinel() ? PreparedUpdate.SENTINEL : new PreparedUpdate(u)).toList();
    }

    private static void assertFramesEqual(Map<String, List<byte[]>> expected, Map<String, List<byte[]>> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String conn : expected.keySet()) {
            List<byte[]> e = expected.get(conn);
            List<byte[]> a = actual.get(conn);
            assertEquals(e.size(), a.size(), conn);
            for (int i = 0; i < e.size(); i++) {
                assertArrayEquals(e.get(i), a.get(i), "connection " + conn + ", frame " + i + ": "
                        + HexFormat.of().formatHex(a.get(i)));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gob", "json"})
    void sharedBodies_giveTheSameFramesAsPerStreamEncoding(String name) throws Exception {
        Map<String, List<byte[]>> expected = recorded(name);
        List<PreparedUpdate> prepared = prepare(updates());
        assertFramesEqual(expected, scenario(codec(name), prepared));
        // Again with the bodies already encoded (by the run above): still the same bytes.
        assertFramesEqual(expected, scenario(codec(name), prepared));
    }

    @Test
    void bodiesEncodedForOneCodec_areReusedByTheOther_neverMixedUp() throws Exception {
        List<PreparedUpdate> prepared = prepare(updates());
        Map<String, List<byte[]>> gob = scenario(codec("gob"), prepared);
        Map<String, List<byte[]>> json = scenario(codec("json"), prepared);
        assertFramesEqual(recorded("gob"), gob);
        assertFramesEqual(recorded("json"), json);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gob", "json"})
    void theServiceUpdateOverload_encodesTheSameFrames(String name) throws Exception {
        Map<String, List<byte[]>> expected = recorded(name);
        ServerCodec a = codec(name).get();
        List<ServiceUpdate> updates = updates();
        for (int i = 0; i < updates.size(); i++) {
            assertArrayEquals(expected.get("A").get(i), a.encodeUpdate(SUBSCRIBE, updates.get(i)));
        }
    }

    @Test
    void jsonIdWithNonAsciiText_isCopiedAsUtf8() {
        RpcRequest call = new RpcRequest("Agent.Subscribe", 0, "\"\u00e9\uD83D\uDE00\"", null, null);
        byte[] frame = new JsonServerCodec(MAX).encodeUpdate(call, PreparedUpdate.SENTINEL);
        assertEquals("{\"id\":\"\u00e9\uD83D\uDE00\",\"result\":{\"Name\":\"\",\"Addr\":\"\",\"Online\":false,"
                + "\"Attrs\":null,\"Created\":0},\"error\":null}\n", new String(frame, StandardCharsets.UTF_8));
    }

    @Test
    void manyConnectionsOfBothCodecs_encodeEachBodyOncePerCodec() {
        PreparedUpdate update = new PreparedUpdate(updates().get(0));
        List<ServerCodec> connections = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            connections.add(new GobServerCodec(MAX));
            connections.add(new JsonServerCodec(MAX));
        }
        long before = PreparedUpdate.bodiesEncoded();
        for (ServerCodec c : connections) {
            c.encodeUpdate(SUBSCRIBE, update);
            c.encodeUpdate(SUBSCRIBE_300, update); // a second stream on the same connection
        }
        assertEquals(2, PreparedUpdate.bodiesEncoded() - before);
    }

    @Test
    void concurrentFirstUses_encodeOnce_andAllGetTheSameBytes() throws Exception {
        PreparedUpdate update = new PreparedUpdate(updates().get(0));
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<byte[]>> frames = new ArrayList<>();
            long before = PreparedUpdate.bodiesEncoded();
            for (int i = 0; i < threads; i++) {
                frames.add(pool.submit(() -> {
                    ServerCodec c = new GobServerCodec(MAX);
                    c.encodeUpdate(REGISTER, PreparedUpdate.SENTINEL); // definitions out of the way
                    go.await();
                    return c.encodeUpdate(SUBSCRIBE, update);
                }));
            }
            go.countDown();
            byte[] first = frames.get(0).get();
            for (Future<byte[]> f : frames) {
                assertArrayEquals(first, f.get());
            }
            assertEquals(1, PreparedUpdate.bodiesEncoded() - before);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aBody_isEncodedOnce_andTheSameArrayIsReturned() {
        PreparedUpdate update = new PreparedUpdate(updates().get(1));
        PreparedUpdate.BodyEncoding counting = new PreparedUpdate.BodyEncoding() {
            @Override
            public byte[] encode(ServiceUpdate u) {
                return u.addr().getBytes(StandardCharsets.US_ASCII);
            }
        };
        long before = PreparedUpdate.bodiesEncoded();
        byte[] body = update.body(counting);
        assertSame(body, update.body(counting));
        assertEquals(1, PreparedUpdate.bodiesEncoded() - before);
    }
}
