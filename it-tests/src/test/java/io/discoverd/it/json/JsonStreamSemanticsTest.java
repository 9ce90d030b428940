package io.discoverd.it.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.discoverd.it.Backend;
import io.discoverd.it.EachBackend;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.json.JsonRpcClient.Msg;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

/**
 * Subscribe, Register and Unregister semantics through the JSON codec (PROTOCOL.md §5, §6, §5.11;
 * checklist §8.4 and §8.5 in their JSON form), against the packaged daemon on a real store of each kind.
 * Every test uses its own service names, so the tests share one daemon.
 */
@EachBackend
class JsonStreamSemanticsTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    private static final Duration QUIET = Duration.ofMillis(600);

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

    private static JsonNode update(String name, String addr, boolean online, Map<String, String> attrs, long created)
            throws Exception {
        ObjectNode u = JsonRpcClient.MAPPER.createObjectNode();
        u.put("Name", name);
        u.put("Addr", addr);
        u.put("Online", online);
        if (attrs == null) {
            u.putNull("Attrs");
        } else {
            ObjectNode a = u.putObject("Attrs");
            attrs.forEach(a::put);
        }
        u.put("Created", created);
        return JsonRpcClient.MAPPER.readTree(u.toString()); // number nodes as a parser makes them
    }

    private static JsonNode item(JsonRpcClient c, Object streamId) throws InterruptedException {
        Msg m = c.takeId(streamId);
        assertNull(m.error(), m.raw());
        return m.result();
    }

    private static void assertNoItems(JsonRpcClient c, Object... streamIds) throws InterruptedException {
        Set<JsonNode> ids = new HashSet<>();
        for (Object id : streamIds) {
            ids.add(JsonRpcClient.MAPPER.valueToTree(id));
        }
        List<Msg> got = c.takeAllWithin(m -> ids.contains(m.id()), QUIET);
        assertEquals(List.of(), got.stream().map(Msg::raw).toList(), "no item expected");
    }

    @Test
    @DisplayName("#31 heartbeat (the same Register again): reply only, no item on streams of either connection")
    void heartbeatEmitsNothing() throws Exception {
        try (JsonRpcClient a = JsonRpcClient.connect(env.port()); JsonRpcClient b = JsonRpcClient.connect(env.port())) {
            a.subscribe("hb31", "a31");
            b.subscribe("hb31", "b31");
            a.register("hb31", ":3101", Map.of("k", "v"));
            JsonNode first = item(a, "a31");
            assertEquals(first, item(b, "b31"));
            assertEquals("127.0.0.1:3101", a.register("hb31", ":3101", Map.of("k", "v")));
            assertEquals("127.0.0.1:3101", b.register("hb31", ":3101", Map.of("k", "v")));
            assertNoItems(a, "a31");
            assertNoItems(b, "b31");
        }
    }

    @Test
    @DisplayName("#32 Register with changed attrs: one online item with the new attrs and the same Created")
    void attributeChangeKeepsCreated() throws Exception {
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            c.register("attrs32", ":3201", Map.of("foo", "bar"));
            List<JsonNode> snap = c.subscribe("attrs32", "s32");
            assertEquals(1, snap.size());
            long created = snap.get(0).path("Created").asLong();
            assertTrue(created > 0);
            c.register("attrs32", ":3201", Map.of("foo", "baz"));
            assertEquals(update("attrs32", "127.0.0.1:3201", true, Map.of("foo", "baz"), created), item(c, "s32"));
            assertNoItems(c, "s32");
        }
    }

    @Test
    @DisplayName("#33 attrs changed from nil to {}: one online item with Attrs {}")
    void nilToEmptyAttrsIsAChange() throws Exception {
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            c.register("attrs33", "10.3.3.1:1", null);
            List<JsonNode> snap = c.subscribe("attrs33", "s33");
            assertEquals(1, snap.size());
            assertTrue(snap.get(0).path("Attrs").isNull(), snap.toString());
            long created = snap.get(0).path("Created").asLong();
            c.register("attrs33", "10.3.3.1:1", Map.of());
            assertEquals(update("attrs33", "10.3.3.1:1", true, Map.of(), created), item(c, "s33"));
            assertNoItems(c, "s33");
        }
    }

    @Test
    @DisplayName("#34 Unregister: one offline item carrying only Name and Addr; reply {}")
    void unregisterEmitsOfflineItem() throws Exception {
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            c.register("unreg34", ":3401", Map.of("a", "b"));
            assertEquals(1, c.subscribe("unreg34", "s34").size());
            Msg reply = c.call("Agent.Unregister", JsonRpcClient.args("unreg34", ":3401", null));
            assertEquals(JsonRpcClient.MAPPER.readTree("{\"id\":" + reply.id() + ",\"result\":{},\"error\":null}"), reply.node());
            assertEquals(update("unreg34", "127.0.0.1:3401", false, null, 0), item(c, "s34"));
            assertNoItems(c, "s34");
        }
    }

    @Test
    @DisplayName("#26 #27 Unregister with empty Addr, of an address never registered, and twice: errors ('100: Key not found (' prefix), connection usable")
    void unregisterErrors() throws Exception {
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            Msg empty = c.call("Agent.Unregister", JsonRpcClient.args("unreg27", "", null));
            assertEquals("discoverd: Addr must be set", empty.error(), empty.raw());
            assertEquals(JsonRpcClient.MAPPER.createObjectNode(), empty.result());
            Msg never = c.call("Agent.Unregister", JsonRpcClient.args("unreg27", "10.2.7.1:1", null));
            assertTrue(never.error() != null && never.error().startsWith("100: Key not found ("), never.raw());
            c.register("unreg27", "10.2.7.1:2", null);
            c.unregister("unreg27", "10.2.7.1:2");
            Msg twice = c.call("Agent.Unregister", JsonRpcClient.args("unreg27", "10.2.7.1:2", null));
            assertTrue(twice.error() != null && !twice.error().isEmpty(), twice.raw());
            assertEquals("10.2.7.1:3", c.register("unreg27", "10.2.7.1:3", null));
            assertTrue(env.daemon().isAlive());
        }
    }

    @Test
    @DisplayName("#35 Register a new instance and Unregister it at once: online item, then offline item")
    void registerThenUnregisterAtOnce() throws Exception {
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            c.subscribe("flash35", "s35");
            c.sendLine(JsonRpcClient.request("Agent.Register", JsonRpcClient.args("flash35", ":3501", null), "r35") + "\n"
                    + JsonRpcClient.request("Agent.Unregister", JsonRpcClient.args("flash35", ":3501", null), "u35"));
            assertNull(c.takeId("r35").error());
            assertNull(c.takeId("u35").error());
            JsonNode online = item(c, "s35");
            assertEquals("127.0.0.1:3501", online.path("Addr").asText());
            assertTrue(online.path("Online").asBoolean() && online.path("Created").asLong() > 0, online.toString());
            assertEquals(update("flash35", "127.0.0.1:3501", false, null, 0), item(c, "s35"));
            assertNoItems(c, "s35");
        }
    }

    @Test
    @DisplayName("#41 two streams on one connection and one on another get identical live sequences; a stream on another name gets nothing")
    void streamsOnOneNameSeeTheSameSequence() throws Exception {
        String name = "fan41";
        try (JsonRpcClient c1 = JsonRpcClient.connect(env.port());
             JsonRpcClient c2 = JsonRpcClient.connect(env.port());
             JsonRpcClient w = JsonRpcClient.connect(env.port())) {
            c1.subscribe(name, "x1");
            c1.subscribe(name, "x2");
            c2.subscribe(name, "y1");
            c1.subscribe("fan41-other", "other");
            w.register(name, ":1", Map.of("k", "1"));
            w.register(name, ":2", null);
            w.register(name, ":1", Map.of("k", "2"));
            w.register(name, ":1", Map.of("k", "2")); // heartbeat: no item
            w.unregister(name, ":2");
            w.register(name, ":3", Map.of());
            w.register(name, ":2", Map.of("x", "y"));
            w.unregister(name, ":1");
            w.call("Agent.Register", JsonRpcClient.args(name + "/x", ":9", null)); // accepted or refused, never on these streams
            w.register(name + "x", ":9", null);
            int expected = 7;
            List<JsonNode> s1 = new ArrayList<>();
            List<JsonNode> s2 = new ArrayList<>();
            List<JsonNode> s3 = new ArrayList<>();
            for (int i = 0; i < expected; i++) {
                s1.add(item(c1, "x1"));
                s2.add(item(c1, "x2"));
                s3.add(item(c2, "y1"));
            }
            assertEquals(s1, s2);
            assertEquals(s1, s3);
            List<String> shape = s1.stream().map(u -> u.path("Addr").asText() + (u.path("Online").asBoolean() ? "+" : "-")).toList();
            assertEquals(List.of("127.0.0.1:1+", "127.0.0.1:2+", "127.0.0.1:1+", "127.0.0.1:2-", "127.0.0.1:3+",
                    "127.0.0.1:2+", "127.0.0.1:1-"), shape);
            assertNoItems(c1, "x1", "x2", "other");
            assertNoItems(c2, "y1");
        }
    }

    @Test
    @DisplayName("#42 100 instances registering concurrently over other connections while a Subscribe starts: each exactly once in snapshot plus live items")
    void concurrentRegistrationsDuringSubscribeAreSeenOnce() throws Exception {
        String name = "burst42";
        int writers = 4;
        int perWriter = 25;
        List<JsonRpcClient> clients = new ArrayList<>();
        try (JsonRpcClient sub = JsonRpcClient.connect(env.port())) {
            for (int i = 0; i < writers; i++) {
                clients.add(JsonRpcClient.connect(env.port()));
            }
            CountDownLatch halfSent = new CountDownLatch(writers);
            List<CompletableFuture<Void>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                JsonRpcClient c = clients.get(w);
                int base = 42000 + w * perWriter;
                done.add(CompletableFuture.runAsync(() -> {
                    try {
                        List<String> ids = new ArrayList<>();
                        for (int k = 0; k < perWriter; k++) {
                            String id = JsonRpcClient.freshId();
                            ids.add(id);
                            c.send("Agent.Register", JsonRpcClient.args(name, ":" + (base + k), null), id);
                            if (k == perWriter / 2) {
                                halfSent.countDown();
                            }
                        }
                        for (String id : ids) {
                            Msg m = c.takeId(id);
                            if (m.error() != null) {
                                throw new AssertionError(m.raw());
                            }
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            assertTrue(halfSent.await(10, TimeUnit.SECONDS));
            List<JsonNode> seen = new ArrayList<>(sub.subscribe(name, "s42"));
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            Set<String> distinct = new HashSet<>();
            seen.forEach(u -> distinct.add(u.path("Addr").asText()));
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (distinct.size() < writers * perWriter) {
                Duration left = Duration.ofNanos(deadline - System.nanoTime());
                assertTrue(!left.isNegative(), "only " + distinct.size() + " instances seen");
                JsonNode u = sub.take(m -> m.hasId(JsonRpcClient.MAPPER.valueToTree("s42")), left, "item").result();
                seen.add(u);
                distinct.add(u.path("Addr").asText());
            }
            sub.takeAllWithin(m -> m.hasId(JsonRpcClient.MAPPER.valueToTree("s42")), QUIET)
                    .forEach(m -> seen.add(m.result()));
            Map<String, Integer> counts = new HashMap<>();
            for (JsonNode u : seen) {
                assertEquals(name, u.path("Name").asText());
                assertTrue(u.path("Online").asBoolean(), "unexpected offline item " + u);
                counts.merge(u.path("Addr").asText(), 1, Integer::sum);
            }
            assertEquals(writers * perWriter, counts.size());
            counts.forEach((addr, n) -> assertEquals(1, n, addr + " seen " + n + " times"));
        } finally {
            for (JsonRpcClient c : clients) {
                c.close();
            }
        }
    }

    @Test
    @DisplayName("#43 Register a/b: a/b sees exactly it (or the name is refused with 'discoverd: invalid Name'); a and \"\" see the sentinel only")
    void namesAreNotPrefixesOrPatterns() throws Exception {
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            Msg reg = c.call("Agent.Register", JsonRpcClient.args("a/b", "1.2.3.4:5", null));
            boolean accepted = reg.error() == null;
            if (accepted) {
                assertEquals("1.2.3.4:5", reg.result().asText());
            } else {
                assertEquals("discoverd: invalid Name", reg.error());
                assertEquals(JsonRpcClient.MAPPER.createObjectNode(), reg.result());
            }
            List<JsonNode> ab = c.subscribe("a/b", "ab");
            if (accepted) {
                assertEquals(1, ab.size());
                assertEquals("a/b", ab.get(0).path("Name").asText());
                assertEquals("1.2.3.4:5", ab.get(0).path("Addr").asText());
            } else {
                assertEquals(List.of(), ab);
            }
            assertEquals(List.of(), c.subscribe("a", "a"));
            assertEquals(List.of(), c.subscribe("", "empty"));
            c.call("Agent.Register", JsonRpcClient.args("a/b", "1.2.3.4:6", null));
            c.register("a43", ":4343", null);
            assertNoItems(c, "a", "empty");
        }
    }

    @Test
    @DisplayName("#45 Created strictly increases with first registration, never changes with heartbeats or attr changes, unique across names")
    void createdOrdersFirstRegistrations() throws Exception {
        String name = "age45";
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            c.subscribe(name, "live45");
            c.register(name, ":1111", null);
            c.register(name, ":1111", null);
            c.register(name, ":2222", Map.of("v", "1"));
            c.register(name, ":1111", Map.of("v", "2"));
            c.register("age45-other", ":1111", null);
            c.register(name, ":3333", null);
            c.register(name, ":2222", Map.of("v", "1"));
            c.register(name, ":2222", Map.of("v", "3"));
            c.register(name, ":4444", null);
            Map<String, Long> created = new HashMap<>();
            for (JsonNode u : c.subscribe(name, "snap45")) {
                created.put(u.path("Addr").asText(), u.path("Created").asLong());
            }
            long c1 = created.get("127.0.0.1:1111");
            long c2 = created.get("127.0.0.1:2222");
            long c3 = created.get("127.0.0.1:3333");
            long c4 = created.get("127.0.0.1:4444");
            assertTrue(0 < c1 && c1 < c2 && c2 < c3 && c3 < c4, created.toString());
            // Every live item of the first stream carried the same Created as the final snapshot.
            List<Msg> live = c.takeAllWithin(m -> m.hasId(JsonRpcClient.MAPPER.valueToTree("live45")), QUIET);
            assertEquals(6, live.size(), live.toString()); // :1111, :2222, :1111 attrs, :3333, :2222 attrs, :4444
            for (Msg m : live) {
                assertEquals(created.get(m.result().path("Addr").asText()), m.result().path("Created").asLong(), m.raw());
            }
            List<JsonNode> other = c.subscribe("age45-other", "other45");
            long cOther = other.get(0).path("Created").asLong();
            assertTrue(c2 < cOther && cOther < c3, "other name's Created " + cOther + " vs " + created);
            assertTrue(created.values().stream().noneMatch(v -> v == cOther));
        }
    }

    @Test
    @DisplayName("Agent.Leader (§5.11): the online instance with the smallest Created, then the next after Unregister; none: 'discoverd: no leader for <Name>'")
    void leaderIsOldestInstance() throws Exception {
        String name = "lead511";
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            Msg none = c.call("Agent.Leader", JsonRpcClient.args(name, null, null));
            assertEquals("discoverd: no leader for " + name, none.error(), none.raw());
            assertEquals(JsonRpcClient.MAPPER.createObjectNode(), none.result());
            c.register(name, ":1111", Map.of("role", "first"));
            c.register(name, ":2222", null);
            Map<String, JsonNode> snap = new HashMap<>();
            c.subscribe(name, "l").forEach(u -> snap.put(u.path("Addr").asText(), u));
            Msg first = c.call("Agent.Leader", JsonRpcClient.args(name, null, null));
            assertNull(first.error(), first.raw());
            assertEquals(snap.get("127.0.0.1:1111"), first.result());
            c.unregister(name, ":1111");
            Msg second = c.call("Agent.Leader", JsonRpcClient.args(name, null, null));
            assertEquals(snap.get("127.0.0.1:2222"), second.result(), second.raw());
            assertNotEquals(first.result(), second.result());
            c.unregister(name, ":2222");
            Msg gone = c.call("Agent.Leader", JsonRpcClient.args(name, null, null));
            assertEquals("discoverd: no leader for " + name, gone.error(), gone.raw());
        }
    }
}
