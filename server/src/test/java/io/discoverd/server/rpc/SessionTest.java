package io.discoverd.server.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.protocol.Args;
import io.discoverd.protocol.ServiceUpdate;
import io.discoverd.server.testing.RpcClient;
import io.discoverd.server.testing.RpcClient.Reply;
import io.discoverd.server.testing.TestDaemon;
import io.discoverd.server.testing.WireClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The RPC session over a real daemon and plain sockets, in both codecs (PROTOCOL.md §2, §5). */
class SessionTest {

    @TempDir
    Path dataDir;
    TestDaemon daemon;

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private TestDaemon start(String... yaml) throws Exception {
        daemon = TestDaemon.start(dataDir, yaml);
        return daemon;
    }

    private static Args args(String name, String addr) {
        return new Args(name, addr, null);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    /** Checklist #38, #54: EOS within 1 s after CloseStream, with no other event, and nothing after it. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void closeStream_endsTheStreamPromptly_withoutAnotherEvent(boolean json) throws Exception {
        start();
        try (RpcClient c = RpcClient.connect(daemon.port(), json)) {
            assertEquals("127.0.0.1:8080", c.call("Agent.Register", 0, args("web", ":8080")).string());
            c.send("Agent.Subscribe", 3, args("web", ""));
            Reply item = c.next();
            assertEquals(3, item.key());
            assertEquals("127.0.0.1:8080", item.update().addr());
            assertTrue(c.next().isSentinel());

            c.closeStream(3);
            c.wire.setTimeout(1000);
            Reply eos = c.next();
            assertEquals(3, eos.key());
            assertEquals("EOS", eos.error());
            c.wire.setTimeout(5000);

            // A change to the name after EOS reaches nobody: the next frame is the Register reply.
            Reply reply = c.call("Agent.Register", 4, args("web", ":9090"));
            assertEquals(4, reply.key());
            assertEquals("", reply.error());
            Reply leader = c.call("Agent.Leader", 5, args("web", ""));
            assertEquals(5, leader.key());
            await("subscription released", () -> daemon.backend().openSubscriptions() == 0);
        }
    }

    /**
     * ARCHITECTURE.md, "Threading": one change fanned out to every subscriber, on gob and JSON
     * connections, some with several streams of the service, is encoded once per codec.
     */
    @Test
    void aChangeFannedOutToManySubscribers_isEncodedOncePerCodec() throws Exception {
        start();
        List<RpcClient> clients = new ArrayList<>();
        List<Integer> streamsOf = new ArrayList<>();
        try {
            for (boolean json : new boolean[] {false, true}) {
                for (int i = 0; i < 10; i++) {
                    RpcClient c = RpcClient.connect(daemon.port(), json);
                    clients.add(c);
                    int streams = i % 3 + 1;
                    streamsOf.add(streams);
                    for (int k = 1; k <= streams; k++) {
                        c.send("Agent.Subscribe", k, args("web", ""));
                    }
                    for (int k = 1; k <= streams; k++) {
                        assertTrue(c.next().isSentinel());
                    }
                }
            }
            Map<String, String> attrs = Map.of("role", "primary", "zone", "\u00e9");
            long before = io.discoverd.protocol.PreparedUpdate.bodiesEncoded();
            try (RpcClient writer = RpcClient.connect(daemon.port(), false)) {
                assertEquals("127.0.0.1:8080", writer.call("Agent.Register", 1, new Args("web", ":8080", attrs)).string());
                for (int i = 0; i < clients.size(); i++) {
                    Set<Long> keys = new HashSet<>();
                    for (int k = 0; k < streamsOf.get(i); k++) {
                        Reply r = clients.get(i).next();
                        keys.add(r.key());
                        assertEquals(ServiceUpdate.online("web", "127.0.0.1:8080", attrs, r.update().created()), r.update());
                    }
                    assertEquals(streamsOf.get(i), keys.size());
                }
                assertEquals(2, io.discoverd.protocol.PreparedUpdate.bodiesEncoded() - before, "online: one body per codec");

                assertEquals("", writer.call("Agent.Unregister", 2, args("web", ":8080")).error());
                for (int i = 0; i < clients.size(); i++) {
                    for (int k = 0; k < streamsOf.get(i); k++) {
                        assertEquals(ServiceUpdate.offline("web", "127.0.0.1:8080"), clients.get(i).next().update());
                    }
                }
                assertEquals(4, io.discoverd.protocol.PreparedUpdate.bodiesEncoded() - before, "offline: one body per codec");
            }
        } finally {
            for (RpcClient c : clients) {
                c.close();
            }
        }
    }

    /** Checklist #39: CloseStream with an unknown key gets no answer; the connection works on. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void closeStream_withUnknownKey_isIgnored(boolean json) throws Exception {
        start();
        try (RpcClient c = RpcClient.connect(daemon.port(), json)) {
            c.closeStream(99);
            Reply r = c.call("Agent.Register", 1, args("web", "10.0.0.1:1"));
            assertEquals(1, r.key());
            assertEquals("10.0.0.1:1", r.string());
        }
    }

    /** PROTOCOL.md §4.5: every active stream with that id ends. */
    @Test
    void closeStream_endsEveryStreamWithThatJsonId() throws Exception {
        start();
        try (RpcClient c = RpcClient.connect(daemon.port(), true)) {
            c.send("Agent.Subscribe", 7, args("a", ""));
            c.send("Agent.Subscribe", 7, args("b", ""));
            assertTrue(c.next().isSentinel());
            assertTrue(c.next().isSentinel());
            c.closeStream(7);
            assertEquals("EOS", c.next().error());
            assertEquals("EOS", c.next().error());
            await("both subscriptions released", () -> daemon.backend().openSubscriptions() == 0);
        }
    }

    /** Checklist #13: the §2.5 table on a live connection, which stays usable. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void unknownMethods_getTheExactErrors_andTheConnectionStaysUsable(boolean json) throws Exception {
        start();
        Map<String, String> table = new java.util.LinkedHashMap<>();
        table.put("Agent.Nope", "rpc: can't find method Agent.Nope");
        table.put("Nope.Register", "rpc: can't find service Nope.Register");
        table.put("agent.Register", "rpc: can't find service agent.Register");
        table.put("Agent.register", "rpc: can't find method Agent.register");
        table.put("Bad", "rpc: service/method request ill-formed: Bad");
        table.put("Agent.Register.X", "rpc: service/method request ill-formed: Agent.Register.X");
        table.put("", "rpc: service/method request ill-formed: ");
        table.put("Agent.", "rpc: can't find method Agent.");
        table.put(".Register", "rpc: can't find service .Register");
        table.put("Agent.Heartbeat", "rpc: can't find method Agent.Heartbeat");
        try (RpcClient c = RpcClient.connect(daemon.port(), json)) {
            long seq = 10;
            for (Map.Entry<String, String> e : table.entrySet()) {
                Reply r = c.call(e.getKey(), seq, args("web", ":1"));
                assertEquals(seq, r.key());
                assertEquals(e.getValue(), r.error());
                seq++;
            }
            assertEquals("127.0.0.1:1", c.call("Agent.Register", seq, args("web", ":1")).string());
        }
    }

    /** Checklist #11, #24-26: address expansion and its errors. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void addr_isExpandedWithExternalIp_andEmptyAddrsFail(boolean json) throws Exception {
        start();
        try (RpcClient c = RpcClient.connect(daemon.port(), json)) {
            assertEquals("127.0.0.1:8080", c.call("Agent.Register", 1, new Args("web", ":8080", Map.of("foo", "bar"))).string());
            assertEquals("10.0.0.2:8080", c.call("Agent.Register", 2, args("web", "10.0.0.2:8080")).string());
            assertEquals("127.0.0.1", c.call("Agent.Register", 3, args("web", "127.0.0.1")).string());
            assertEquals("discoverd: Addr must be set", c.call("Agent.Register", 4, args("web", "")).error());
            assertEquals("discoverd: Addr must be set", c.call("Agent.Unregister", 5, args("web", "")).error());
            Reply ok = c.call("Agent.Unregister", 6, args("web", ":8080"));
            assertEquals("", ok.error());
            assertTrue(c.call("Agent.Unregister", 7, args("web", ":8080")).error().startsWith("100: Key not found ("));
        }
    }

    /** Checklist #25. */
    @Test
    void portOnlyAddr_withoutExternalIp_fails() throws Exception {
        daemon = TestDaemon.startWithExternalIp(dataDir, "");
        try (RpcClient c = RpcClient.connect(daemon.port(), false)) {
            assertEquals("discoverd: Addr must have address or EXTERNAL_IP must be set",
                    c.call("Agent.Register", 0, args("web", ":8080")).error());
            assertEquals("10.0.0.1:1", c.call("Agent.Register", 1, args("web", "10.0.0.1:1")).string());
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void attrsOverTheLimit_areRefusedPerCall(boolean json) throws Exception {
        start("maxAttrsBytes: 10");
        try (RpcClient c = RpcClient.connect(daemon.port(), json)) {
            Reply r = c.call("Agent.Register", 1, new Args("web", ":1", Map.of("k", "0123456789")));
            assertEquals("discoverd: Attrs too large (11 bytes, limit 10)", r.error());
            assertEquals("127.0.0.1:1", c.call("Agent.Register", 2, new Args("web", ":1", Map.of("k", "012345678"))).string());
        }
    }

    /** PROTOCOL.md §5.11. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void leader_isTheOldestOnlineInstance(boolean json) throws Exception {
        start();
        try (RpcClient c = RpcClient.connect(daemon.port(), json)) {
            assertEquals("discoverd: no leader for web", c.call("Agent.Leader", 1, args("web", "")).error());
            c.call("Agent.Register", 2, new Args("web", ":1", Map.of("a", "b")));
            c.call("Agent.Register", 3, args("web", ":2"));
            ServiceUpdate first = c.call("Agent.Leader", 4, args("web", "")).update();
            assertEquals(ServiceUpdate.online("web", "127.0.0.1:1", Map.of("a", "b"), first.created()), first);
            assertTrue(first.created() > 0);
            c.call("Agent.Unregister", 5, args("web", ":1"));
            ServiceUpdate second = c.call("Agent.Leader", 6, args("web", "")).update();
            assertEquals("127.0.0.1:2", second.addr());
            assertTrue(second.created() > first.created());
        }
    }

    /** Checklist #40: streams are released at once on disconnect; registrations stay. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void disconnect_releasesSubscriptions_butKeepsRegistrations(boolean json) throws Exception {
        start();
        RpcClient c = RpcClient.connect(daemon.port(), json);
        c.call("Agent.Register", 1, args("web", ":1"));
        c.send("Agent.Subscribe", 2, args("web", ""));
        c.send("Agent.Subscribe", 3, args("other", ""));
        for (int i = 0; i < 3; i++) {
            assertNotNull(c.next());
        }
        assertEquals(2, daemon.backend().openSubscriptions());
        c.close();
        await("subscriptions released", () -> daemon.backend().openSubscriptions() == 0);
        await("connection gone", () -> daemon.daemon.openConnections() == 0);
        try (RpcClient other = RpcClient.connect(daemon.port(), json)) {
            assertEquals("127.0.0.1:1", other.call("Agent.Leader", 1, args("web", "")).update().addr());
        }
    }

    /**
     * A big snapshot starts reaching the wire before the backend has finished it: a stream asks the
     * event loop for a drain every {@link Session#SNAPSHOT_CHUNK} snapshot entries, so the first
     * chunk arrives while the backend still holds back {@code current()}; the rest, the sentinel and
     * a live change follow once it is released. Every instance once; both codecs.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aBigSnapshot_goesOutInChunks_beforeTheBackendFinishesIt(boolean json) throws Exception {
        start();
        int n = Session.SNAPSHOT_CHUNK + 7;
        try (RpcClient c = RpcClient.connect(daemon.port(), json)) {
            for (int i = 0; i < n; i++) {
                c.send("Agent.Register", i, args("big", "10.0.0.1:" + (1000 + i)));
            }
            for (int i = 0; i < n; i++) {
                assertEquals("", c.next().error());
            }
            java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
            daemon.backend().holdSnapshotEnds(gate);
            Set<String> addrs = new HashSet<>();
            try {
                c.send("Agent.Subscribe", 9000, args("big", ""));
                for (int i = 0; i < Session.SNAPSHOT_CHUNK; i++) { // before current(): only the chunk's drain sends these
                    Reply r = c.next();
                    assertEquals(9000, r.key());
                    assertFalse(r.isSentinel());
                    assertTrue(addrs.add(r.update().addr()), "twice in the snapshot: " + r.update().addr());
                }
            } finally {
                gate.countDown();
            }
            Reply r;
            while (!(r = c.next()).isSentinel()) {
                assertTrue(addrs.add(r.update().addr()), "twice in the snapshot: " + r.update().addr());
            }
            assertEquals(n, addrs.size());
            c.send("Agent.Register", 9001, args("big", "10.0.0.2:1"));
            Reply live = c.next();
            Reply other = c.next();
            Reply update = live.key() == 9000 ? live : other;
            assertEquals("10.0.0.2:1", update.update().addr());
        }
    }

    /** Checklist #21, §2.2: the reader keeps reading while calls run; every Seq answered once. */
    @Test
    void pipelinedRegisters_areEachAnsweredOnce() throws Exception {
        start();
        try (RpcClient c = RpcClient.connect(daemon.port(), false)) {
            c.send("Agent.Subscribe", 1000, args("web", ""));
            for (int i = 0; i < 50; i++) {
                c.send("Agent.Register", i, args("web", "10.0.0.1:" + i));
            }
            Set<Long> seqs = new HashSet<>();
            List<ServiceUpdate> items = new ArrayList<>();
            while (seqs.size() < 50 || items.size() < 51) {
                Reply r = c.next();
                if (r.key() == 1000) {
                    items.add(r.update());
                } else {
                    assertTrue(seqs.add(r.key()), "Seq answered twice: " + r.key());
                }
            }
            assertTrue(items.stream().anyMatch(ServiceUpdate::isSentinel));
        }
    }

    /** Checklist #55, §2.6: bad bytes close only their own connection. */
    @ParameterizedTest
    @ValueSource(strings = {"garbage\n", "[1,2]\n", "\"x\"\n"})
    void jsonGarbage_closesOnlyThatConnection(String garbage) throws Exception {
        start();
        try (RpcClient bystander = RpcClient.connect(daemon.port(), false);
             RpcClient bad = RpcClient.connect(daemon.port(), true)) {
            bystander.send("Agent.Subscribe", 1, args("web", ""));
            assertTrue(bystander.next().isSentinel());
            bad.wire.write(garbage);
            assertTrue(bad.wire.closedByPeer());
            bystander.send("Agent.Register", 2, args("web", ":5"));
            Set<Long> keys = new HashSet<>();
            keys.add(bystander.next().key());
            keys.add(bystander.next().key());
            assertEquals(Set.of(1L, 2L), keys);
        }
    }

    @Test
    void gobMessageOverTheLimit_closesOnlyThatConnection() throws Exception {
        start("maxMessageBytes: 1024");
        try (RpcClient bystander = RpcClient.connect(daemon.port(), true);
             WireClient bad = WireClient.rpc(daemon.port(), false)) {
            bad.write(new byte[] {(byte) 0xfe, 0x08, 0x00}); // a message claiming 2048 bytes
            assertTrue(bad.closedByPeer());
            assertEquals("127.0.0.1:5", bystander.call("Agent.Register", 1, args("web", ":5")).string());
        }
    }

    @Test
    void gobGarbage_closesOnlyThatConnection() throws Exception {
        start();
        try (WireClient bad = WireClient.rpc(daemon.port(), false);
             RpcClient bystander = RpcClient.connect(daemon.port(), false)) {
            bad.write(new byte[] {0x03, 0x0c, 0x00, 0x00}); // a request header that is a string (checklist #17)
            assertTrue(bad.closedByPeer());
            assertEquals("127.0.0.1:5", bystander.call("Agent.Register", 1, args("web", ":5")).string());
        }
    }

    /** Checklist #55: random bytes after the upgrade never stop the daemon nor disturb others. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void randomBytes_afterTheUpgrade_affectOnlyTheirConnection(boolean json) throws Exception {
        start("maxMessageBytes: 4096");
        java.util.Random random = new java.util.Random(42);
        try (RpcClient bystander = RpcClient.connect(daemon.port(), !json)) {
            bystander.send("Agent.Subscribe", 1, args("web", ""));
            assertTrue(bystander.next().isSentinel());
            for (int round = 0; round < 20; round++) {
                try (WireClient bad = WireClient.rpc(daemon.port(), json)) {
                    byte[] junk = new byte[1 + random.nextInt(2000)];
                    random.nextBytes(junk);
                    bad.write(junk);
                    bad.socket.shutdownOutput();
                    bad.closedByPeer(); // closed, or left waiting for more bytes: both are fine
                }
            }
            bystander.send("Agent.Register", 2, args("web", ":7"));
            Set<Long> keys = new HashSet<>();
            keys.add(bystander.next().key());
            keys.add(bystander.next().key());
            assertEquals(Set.of(1L, 2L), keys);
        }
        await("junk connections released", () -> daemon.daemon.openConnections() == 0);
    }

    /**
     * ARCHITECTURE.md "Threading": a reader that does not read is cut off; others carry on. On every
     * transport (the cut-off is an abortive close through the channel's options); a native one this
     * host cannot load is skipped.
     */
    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll", "io_uring"})
    void slowReader_isDisconnected_whileOtherConnectionsKeepWorking(String transport) throws Exception {
        TestDaemon.assumeTransportLoads(transport);
        start("subscriberQueueBytes: 65536", "transport: " + transport);
        WireClient slow = new WireClient(daemon.port(), 4096);
        slow.write(WireClient.JSON_CONNECT);
        slow.readExactly(WireClient.CONNECTED.length);
        slow.write("{\"method\":\"Agent.Subscribe\",\"params\":[{\"Name\":\"big\"}],\"id\":1}\n");
        assertTrue(slow.readLine().contains("\"Addr\":\"\""), "sentinel");
        assertEquals(1, daemon.backend().openSubscriptions());
        // The slow client stops reading; updates of ~8 KiB each pile up behind it.
        String pad = "x".repeat(8000);
        long queued = 0;
        try (RpcClient writer = RpcClient.connect(daemon.port(), false)) {
            int sent = 0;
            while (daemon.backend().openSubscriptions() > 0) {
                assertTrue(sent < 5000, "the slow reader was never disconnected");
                Reply r = writer.call("Agent.Register", sent, new Args("big", "10.0.0.1:" + sent, Map.of("pad", pad)));
                assertEquals("", r.error());
                sent++;
                queued += pad.length() + 100; // a lower bound of the JSON frame: the update's other fields and the header
            }
            await("slow connection closed", () -> daemon.daemon.openConnections() == 1);
            assertEquals("127.0.0.1:1", writer.call("Agent.Register", 100000, args("web", ":1")).string());
        }
        // Cut off, not drained: the reader gets less than was queued for it (what the daemon still held,
        // over its 64 KiB bound, is discarded; the kernel's socket buffers, a few MB on loopback, may hold
        // the rest), then EOF or a reset. queued is a lower bound (about 10 bytes per frame short).
        long readable = 0;
        byte[] buf = new byte[65536];
        try {
            for (int n; (n = slow.read(buf)) >= 0; ) {
                readable += n;
            }
        } catch (java.net.SocketException reset) {
            // the expected end of an aborted connection
        }
        assertTrue(readable < queued - 32_768, "read " + readable + " of " + queued + " bytes queued");
        slow.close();
    }

    /** A connection cannot hold streams without bound: one over the limit gets the sentinel, then an error frame. */
    @Test
    void subscribe_overTheStreamLimit_getsSentinelThenErrorFrame_andTheConnectionStaysUsable() throws Exception {
        start();
        try (RpcClient c = RpcClient.connect(daemon.port(), false)) {
            for (int i = 0; i < Session.MAX_STREAMS; i++) {
                c.send("Agent.Subscribe", i, args("svc" + (i % 16), ""));
            }
            int sentinels = 0;
            while (sentinels < Session.MAX_STREAMS) {
                Reply r = c.next();
                assertTrue(r.error() == null || r.error().isEmpty(), "unexpected error " + r.error());
                if (r.isSentinel()) {
                    sentinels++;
                }
            }
            long over = Session.MAX_STREAMS;
            c.send("Agent.Subscribe", over, args("svc0", ""));
            Reply sentinel = c.next();
            assertEquals(over, sentinel.key());
            assertTrue(sentinel.isSentinel());
            Reply error = c.next();
            assertEquals(over, error.key());
            assertTrue(error.error().startsWith("discoverd: too many streams"), error.error());

            // Closing one stream makes room again; the connection keeps working throughout.
            c.closeStream(0);
            assertEquals("EOS", c.next().error());
            c.send("Agent.Subscribe", over + 1, args("svc0", ""));
            Reply again = c.next();
            assertEquals(over + 1, again.key());
            assertTrue(again.isSentinel());
            assertEquals("127.0.0.1:1", c.call("Agent.Register", over + 2, args("other", ":1")).string());
        }
    }
}
