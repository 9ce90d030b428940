package io.discoverd.it.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.discoverd.it.Backend;
import io.discoverd.it.EachBackend;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.json.JsonRpcClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The HTTP front door of the packaged daemon (PROTOCOL.md §1, checklist §8.1 #1–#7 and #9): the
 * byte-exact upgrade answer under any segmentation, codec selection proven by a working request in
 * the selected codec, and the 404/405 answers.
 */
@EachBackend
class HandshakeTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    private static final Duration READ = Duration.ofSeconds(10);
    /** Distinct instance ports for the registrations that prove the gob codec. */
    private static final AtomicInteger PORTS = new AtomicInteger(10100);

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

    /** Proves gob: a Go-client Register on the upgraded connection gets its gob reply. */
    private static void assertSpeaksGob(RawConnection c, int port) throws IOException {
        GobWire.Writer w = new GobWire.Writer();
        c.write(w.request("Agent.Register", 0, "handshake-gob", ":" + port, Map.of("foo", "bar")));
        c.setReadTimeout(READ);
        GobWire.Response r = new GobWire.Reader(c.input()).readResponse();
        assertEquals(new GobWire.Response("Agent.Register", 0, "", "127.0.0.1:" + port), r);
    }

    /** Proves JSON: an unknown-method request gets the JSON error answer. */
    private static void assertSpeaksJson(RawConnection c) throws IOException, InterruptedException {
        try (JsonRpcClient j = JsonRpcClient.over(c)) {
            j.sendLine("{\"method\":\"Agent.Nope\",\"params\":[{}],\"id\":1}");
            JsonRpcClient.Msg m = j.takeId(1);
            assertEquals(JsonRpcClient.MAPPER.readTree("{\"id\":1,\"result\":{},\"error\":\"rpc: can't find method Agent.Nope\"}"),
                    m.node());
        }
    }

    @Test
    @DisplayName("#1 CONNECT of §1.2 in one write: exactly the 34-byte answer, then gob")
    void connectInOneWrite() throws Exception {
        try (RawConnection c = RawConnection.open(env.port())) {
            c.write(RawConnection.connectRequest(RawConnection.GOB));
            assertArrayEquals(RawConnection.CONNECTED, c.readExactly(34, READ));
            // Nothing else precedes the codec: the next bytes are the gob reply to our first request.
            assertSpeaksGob(c, 10001);
        }
    }

    @Test
    @DisplayName("#2 CONNECT in the Go client's three writes with pauses: the same 34 bytes")
    void connectInThreeWrites() throws Exception {
        try (RawConnection c = RawConnection.open(env.port())) {
            c.write("CONNECT /_goRPC_ HTTP/1.0\r\n");
            pause();
            c.write("Accept: application/vnd.flynn.rpc-hijack+gob\r\n");
            pause();
            assertNothingYet(c);
            c.write("\r\n");
            assertArrayEquals(RawConnection.CONNECTED, c.readExactly(34, READ));
            assertSpeaksGob(c, 10002);
        }
    }

    @Test
    @DisplayName("#2 CONNECT written one byte per write: the same 34 bytes")
    void connectOneBytePerWrite() throws Exception {
        byte[] request = RawConnection.connectRequest(RawConnection.GOB);
        try (RawConnection c = RawConnection.open(env.port())) {
            for (byte b : request) {
                c.write(new byte[] {b});
                Thread.sleep(2); // give each byte its own segment
            }
            assertArrayEquals(RawConnection.CONNECTED, c.readExactly(34, READ));
            assertSpeaksGob(c, 10003);
        }
    }

    private static void pause() throws InterruptedException {
        Thread.sleep(150); // the pause is the scenario: the request arrives in separate segments
    }

    private static void assertNothingYet(RawConnection c) {
        assertThrows(SocketTimeoutException.class, () -> c.readExactly(1, Duration.ofMillis(100)),
                "the server answered before the request was complete");
    }

    @ParameterizedTest(name = "#3 Accept {0} selects gob")
    @ValueSource(strings = {"<none>", "", "application/vnd.flynn.rpc-hijack+gob",
            "application/vnd.flynn.rpc-hijack+json, text/plain"})
    @DisplayName("#3 no Accept, empty Accept, +gob, and a list selecting +json: gob")
    void acceptSelectsGob(String accept) throws Exception {
        try (RawConnection c = RawConnection.upgraded(env.port(), accept.equals("<none>") ? null : accept)) {
            assertSpeaksGob(c, PORTS.incrementAndGet());
        }
    }

    @ParameterizedTest(name = "#4 Accept {0} selects JSON")
    @ValueSource(strings = {"application/vnd.flynn.rpc-hijack+json", "Application/VND.flynn.rpc-hijack+JSON; q=1"})
    @DisplayName("#4 Accept +json, also in mixed case with a parameter: JSON")
    void acceptSelectsJson(String accept) throws Exception {
        assertSpeaksJson(RawConnection.upgraded(env.port(), accept));
    }

    @ParameterizedTest(name = "#5 {0}")
    @ValueSource(strings = {"GET /_goRPC_ HTTP/1.0\r\n\r\n", "connect /_goRPC_ HTTP/1.0\r\n\r\n",
            "GET /_goRPC_ HTTP/1.1\r\nHost: x\r\n\r\n", "POST /_goRPC_ HTTP/1.0\r\n\r\n"})
    @DisplayName("#5 other methods on /_goRPC_, lower-case connect included: 405, text/plain; charset=utf-8, '405 must CONNECT\\n'")
    void otherMethodsGet405(String request) throws Exception {
        assertAnswer(request, 405, "405 must CONNECT\n");
    }

    @ParameterizedTest(name = "#6 {0}")
    @ValueSource(strings = {"GET /other HTTP/1.0\r\n\r\n", "CONNECT /other HTTP/1.0\r\n\r\n",
            "CONNECT /_goRPC_/x HTTP/1.0\r\n\r\n", "GET /_goRPC_/x HTTP/1.0\r\n\r\n"})
    @DisplayName("#6 any method on another path, /_goRPC_/x included: 404, '404 page not found\\n'")
    void otherPathsGet404(String request) throws Exception {
        assertAnswer(request, 404, "404 page not found\n");
    }

    private static void assertAnswer(String request, int status, String body) throws IOException {
        try (RawConnection c = RawConnection.open(env.port())) {
            c.write(request);
            RawConnection.HttpAnswer a = c.readHttpAnswer(READ);
            assertTrue(a.statusLine().matches("HTTP/1\\.[01] " + status + " .*"), a.statusLine());
            assertEquals("text/plain; charset=utf-8", a.headers().get("content-type"));
            assertEquals(body, a.bodyText());
        }
    }

    @Test
    @DisplayName("#7 CONNECT with bare-LF line ends: the 34-byte answer, then the JSON codec it asked for")
    void bareLineFeeds() throws Exception {
        RawConnection c = RawConnection.open(env.port());
        c.write("CONNECT /_goRPC_ HTTP/1.0\nAccept: application/vnd.flynn.rpc-hijack+json\n\n");
        assertArrayEquals(RawConnection.CONNECTED, c.readExactly(34, READ));
        assertSpeaksJson(c);
    }

    @Test
    @DisplayName("#7 CONNECT HTTP/1.1 with Host and a lower-case accept header name: answer is still HTTP/1.0 200, JSON codec")
    void http11WithHost() throws Exception {
        RawConnection c = RawConnection.open(env.port());
        c.write("CONNECT /_goRPC_ HTTP/1.1\r\nHost: 127.0.0.1\r\naccept: application/vnd.flynn.rpc-hijack+json\r\n\r\n");
        assertArrayEquals(RawConnection.CONNECTED, c.readExactly(34, READ));
        assertSpeaksJson(c);
    }

    @Test
    @DisplayName("#9 CONNECT and the first JSON request in the same write: the request is answered")
    void jsonRequestInTheHandshakeWrite() throws Exception {
        RawConnection c = RawConnection.open(env.port());
        c.write(new String(RawConnection.connectRequest(RawConnection.JSON), StandardCharsets.ISO_8859_1)
                + "{\"method\":\"Agent.Register\",\"params\":[{\"Name\":\"early9\",\"Addr\":\":9009\"}],\"id\":9}\n");
        assertArrayEquals(RawConnection.CONNECTED, c.readExactly(34, READ));
        try (JsonRpcClient j = JsonRpcClient.over(c)) {
            JsonNode reply = j.takeId(9).node();
            assertEquals(JsonRpcClient.MAPPER.readTree("{\"id\":9,\"result\":\"127.0.0.1:9009\",\"error\":null}"), reply);
        }
    }

    @Test
    @DisplayName("#9 CONNECT and the first gob request in the same write: the request is answered")
    void gobRequestInTheHandshakeWrite() throws Exception {
        GobWire.Writer w = new GobWire.Writer();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(RawConnection.connectRequest(RawConnection.GOB));
        bytes.writeBytes(w.request("Agent.Register", 0, "early9", ":9010", null));
        try (RawConnection c = RawConnection.open(env.port())) {
            c.write(bytes.toByteArray());
            assertArrayEquals(RawConnection.CONNECTED, c.readExactly(34, READ));
            c.setReadTimeout(READ);
            assertEquals(new GobWire.Response("Agent.Register", 0, "", "127.0.0.1:9010"),
                    new GobWire.Reader(c.input()).readResponse());
        }
    }

    @Test
    @DisplayName("#3 JSON text on a gob connection is not answered as JSON (a list Accept selects gob)")
    void jsonOnGobConnectionIsNotJson() throws Exception {
        try (RawConnection c = RawConnection.upgraded(env.port(), "application/vnd.flynn.rpc-hijack+json, text/plain")) {
            c.write("{\"method\":\"Agent.Nope\",\"params\":[{}],\"id\":1}\n");
            // Read as gob, '{' is a 123-byte message length: the server waits for more bytes or closes.
            try {
                byte[] got = c.readExactly(1, Duration.ofMillis(500));
                throw new AssertionError("unexpected answer byte " + Arrays.toString(got));
            } catch (SocketTimeoutException | java.io.EOFException | java.net.SocketException expected) {
                // no JSON answer
            }
        }
    }
}
