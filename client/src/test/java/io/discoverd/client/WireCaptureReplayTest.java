package io.discoverd.client;

import io.discoverd.protocol.Args;
import io.discoverd.protocol.gob.GobClientDecoder;
import io.discoverd.protocol.gob.GobServerCodec;
import io.discoverd.protocol.rpc.RpcRequest;
import io.discoverd.protocol.testing.WireCapture;
import io.discoverd.protocol.testing.WireCapture.Connection;
import io.discoverd.protocol.testing.WireCapture.Direction;
import io.discoverd.protocol.testing.WireCapture.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client against the Go recordings in {@code testdata/wire/}: a scripted server plays the
 * original daemon's side of {@code gob-session.txt} byte for byte while the client makes the same
 * calls the Go client made; the client's bytes must decode to the same requests (and equal the Go
 * client's bytes apart from the CloseStream body's type id), and every recorded answer must decode
 * to the values the Go client got.
 */
@Timeout(30)
class WireCaptureReplayTest {

    @Test
    void replaysTheGoSession() throws Exception {
        Connection session = WireCapture.load("gob-session.txt").get(0);
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CountDownLatch finished = new CountDownLatch(1);
            CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> play(server, session, finished));
            try (DiscoverdClient client = DiscoverdClient.builder()
                    .address("127.0.0.1:" + server.getLocalPort())
                    .heartbeatInterval(Duration.ofHours(1)).build()) {
                // seq0, seq1
                assertEquals("127.0.0.1:8080", client.register("web", ":8080", Map.of("foo", "bar")));
                assertEquals("10.0.0.2:8080", client.register("web", "10.0.0.2:8080"));
                // seq2
                DiscoverdException e = assertThrows(DiscoverdException.class, () -> client.register("web", ""));
                assertEquals("discoverd: Addr must be set", e.serverMessage());
                // seq3: snapshot and sentinel
                ServiceSet set = client.serviceSet("web");
                List<ServiceInstance> s = set.services();
                assertEquals(List.of("127.0.0.1:8080", "10.0.0.2:8080"), set.addrs());
                assertEquals(Map.of("foo", "bar"), s.get(0).attrs());
                assertEquals(Map.of(), s.get(1).attrs());
                assertTrue(Long.compareUnsigned(s.get(0).created(), s.get(1).created()) < 0);
                long created = s.get(0).created();
                Events<ServiceInstance> ev = new Events<>();
                set.watch(false, ev);
                // seq4 heartbeat, seq5 attribute change
                client.register("web", ":8080", Map.of("foo", "bar"));
                client.register("web", ":8080", Map.of("foo", "baz"));
                ServiceInstance changed = ev.next();
                assertEquals(Map.of("foo", "baz"), changed.attrs());
                assertEquals(created, changed.created());
                // seq6 unregister, offline item; seq7 unknown instance
                client.unregister("web", "10.0.0.2:8080");
                ServiceInstance off = ev.next();
                assertEquals("10.0.0.2:8080", off.addr());
                assertFalse(off.online());
                e = assertThrows(DiscoverdException.class, () -> client.unregister("web", "10.9.9.9:1"));
                assertTrue(e.serverMessage().startsWith("100: Key not found ("), e.serverMessage());
                // CloseStream 3, then seq8 (the EOS frame that follows is ignored)
                set.close();
                assertEquals("127.0.0.1:7070", client.register("web", ":7070"));
                // seq9 to seq11: methods the public API cannot name
                io.discoverd.client.Connection c = client.currentConnection().orElseThrow();
                for (String[] m : new String[][] {{"Agent.Nope", "rpc: can't find method Agent.Nope"},
                        {"Nope.Register", "rpc: can't find service Nope.Register"},
                        {"Bad", "rpc: service/method request ill-formed: Bad"}}) {
                    CompletableFuture<Object> f = c.call(m[0], new Args("x", "", null));
                    Throwable t = assertThrows(Exception.class, () -> f.get(5, TimeUnit.SECONDS)).getCause();
                    assertEquals(m[1], ((DiscoverdException) t).serverMessage());
                }
                // seq12
                assertEquals("127.0.0.1:7070", client.register("web", ":7070"));
                assertEquals(ConnectionState.CONNECTED, client.state());
                finished.countDown();

                byte[] mine = received.get(10, TimeUnit.SECONDS);
                byte[] go = clientBytes(session);
                assertEquals(go.length, mine.length);
                assertEquals(decode(go), decode(mine));
                // Byte-identical up to the CloseStream, whose empty-struct id was 69 in the Go process.
                int closeStream = indexOf(go, HexFormat.of().parseHex("12ff82010b436c6f736553747265616d010300"));
                assertTrue(closeStream > 0);
                assertArrayEquals(java.util.Arrays.copyOf(go, closeStream), java.util.Arrays.copyOf(mine, closeStream));
            }
        }
    }

    /** Every server-to-client message of every gob capture decodes as the client decodes it. */
    @Test
    void everyRecordedServerStreamDecodes() throws Exception {
        int responses = 0;
        for (String file : WireCapture.files()) {
            if (!file.startsWith("gob-")) {
                continue;
            }
            for (Connection conn : WireCapture.load(file)) {
                GobClientDecoder d = new GobClientDecoder(io.discoverd.client.Connection.MAX_MESSAGE_BYTES);
                for (Message m : conn.messages(Direction.S2C)) {
                    if (m.close() || m.isHandshake() || m.tagged("[original-only]")) {
                        continue;
                    }
                    d.feed(m.bytes(), 0, m.bytes().length);
                    GobClientDecoder.Response r;
                    while ((r = d.next()) != null) {
                        responses++;
                        if (r.serviceMethod().equals("Agent.Subscribe") && r.error().isEmpty()) {
                            assertNotNull(SetCore.toInstance(r.update()).addr(), file);
                        } else if (r.serviceMethod().equals("Agent.Register") && r.error().isEmpty()) {
                            assertTrue(r.body() instanceof String, file);
                        }
                    }
                }
            }
        }
        assertTrue(responses > 20, "responses decoded: " + responses);
    }

    @Test
    void handshakeAnswerMustBeExact() throws Exception {
        io.discoverd.client.Connection.readConnectAnswer(stream("HTTP/1.0 200 Connected to Go RPC\n\n"));
        io.discoverd.client.Connection.readConnectAnswer(stream("HTTP/1.1 200 Connected to Go RPC\r\n\r\n"));
        assertThrows(java.io.IOException.class,
                () -> io.discoverd.client.Connection.readConnectAnswer(stream("HTTP/1.0 200 OK\n\n")));
        assertThrows(java.io.IOException.class,
                () -> io.discoverd.client.Connection.readConnectAnswer(stream("HTTP/1.0 405 Method Not Allowed\r\n\r\n405 must CONNECT\n")));
        assertThrows(java.io.EOFException.class,
                () -> io.discoverd.client.Connection.readConnectAnswer(stream("HTTP/1.0 200 Conn")));
    }

    private static InputStream stream(String s) {
        return new java.io.ByteArrayInputStream(s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    /** Plays the server side of a capture; returns everything the client sent after the handshake. */
    private static byte[] play(ServerSocket server, Connection session, CountDownLatch finished) {
        try (Socket s = server.accept()) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            ByteArrayOutputStream rpc = new ByteArrayOutputStream();
            for (Message m : session.messages()) {
                if (m.direction() == Direction.C2S) {
                    byte[] got = in.readNBytes(m.bytes().length);
                    if (m.isHandshake()) {
                        assertArrayEquals(m.bytes(), got, "CONNECT request");
                    } else {
                        rpc.writeBytes(got);
                    }
                } else if (!m.close() && !m.tagged("[original-only]")) {
                    out.write(m.bytes());
                    out.flush();
                }
            }
            finished.await(10, TimeUnit.SECONDS); // keep the connection open until the client is done
            return rpc.toByteArray();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static byte[] clientBytes(Connection session) {
        return session.rpcBytes(Direction.C2S, false);
    }

    private static List<String> decode(byte[] bytes) throws Exception {
        GobServerCodec codec = new GobServerCodec(1 << 20);
        codec.feed(bytes, 0, bytes.length);
        List<String> out = new ArrayList<>();
        RpcRequest r;
        while ((r = codec.next()) != null) {
            out.add(r.serviceMethod() + " " + r.seq() + " " + r.args() + " " + r.argsError());
        }
        return out;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
