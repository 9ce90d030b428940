package io.discoverd.server.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.discoverd.server.testing.Capture;
import io.discoverd.server.testing.GobStream;
import io.discoverd.server.testing.TestDaemon;
import io.discoverd.server.testing.WireClient;
import io.discoverd.protocol.gob.GobValues;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** PROTOCOL.md §1, §5.11 and checklist items 1-7, 9: the HTTP front door. */
class FrontDoorTest {

    private static final String JSON_NOPE = "{\"method\":\"Agent.Nope\",\"params\":[{}],\"id\":1}\n";
    private static final String NOPE_ANSWER = "{\"id\":1,\"result\":{},\"error\":\"rpc: can't find method Agent.Nope\"}";

    @TempDir
    Path dataDir;
    TestDaemon daemon;

    @BeforeEach
    void start() throws Exception {
        daemon = TestDaemon.start(dataDir);
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    /** The client messages of gob-register.txt after the handshake: two Registers. */
    private static byte[] gobRegisterRequests() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Capture.Message> msgs = Capture.read("gob-register.txt").get(0).messages();
        for (Capture.Message m : msgs.subList(2, msgs.size())) {
            if (m.fromClient()) {
                out.write(m.payload());
            }
        }
        return out.toByteArray();
    }

    /** Sends gob-register's requests and checks the two gob replies: proves the connection speaks gob. */
    private static void assertSpeaksGob(WireClient c) throws Exception {
        c.write(gobRegisterRequests());
        assertGobRegisterReplies(c);
    }

    private static void assertGobRegisterReplies(WireClient c) throws Exception {
        List<Object> values = new GobStream().readValues(c, 4);
        assertEquals("Agent.Register", ((GobValues.Struct) values.get(0)).get("ServiceMethod", ""));
        assertEquals(List.of("127.0.0.1:8080", "10.0.0.2:8080"), List.of(values.get(1), values.get(3)));
    }

    @Test
    void connect_inOneWrite_getsTheExact34ByteAnswer_thenGob() throws Exception {
        try (WireClient c = new WireClient(daemon.port())) {
            c.write(WireClient.GOB_CONNECT);
            assertArrayEquals(WireClient.CONNECTED, c.readExactly(34));
            assertSpeaksGob(c);
        }
    }

    @Test
    void connect_oneBytePerWrite_isParsedIncrementally() throws Exception {
        try (WireClient c = new WireClient(daemon.port())) {
            for (byte b : WireClient.JSON_CONNECT.getBytes(StandardCharsets.US_ASCII)) {
                c.write(new byte[] {b});
            }
            assertArrayEquals(WireClient.CONNECTED, c.readExactly(34));
            c.write(JSON_NOPE);
            assertEquals(NOPE_ANSWER, c.readLine());
        }
    }

    @Test
    void connect_inThreeWrites_likeTheGoClient() throws Exception {
        try (WireClient c = new WireClient(daemon.port())) {
            c.write("CONNECT /_goRPC_ HTTP/1.0\r\n");
            c.write("Accept: application/vnd.flynn.rpc-hijack+gob\r\n");
            c.write("\r\n");
            assertArrayEquals(WireClient.CONNECTED, c.readExactly(34));
            assertSpeaksGob(c);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "CONNECT /_goRPC_ HTTP/1.0\r\nAccept: application/vnd.flynn.rpc-hijack+json\r\n\r\n",
        "CONNECT /_goRPC_ HTTP/1.0\r\nAccept: Application/VND.flynn.rpc-hijack+JSON; q=1\r\n\r\n",
        "CONNECT /_goRPC_ HTTP/1.0\nAccept: application/vnd.flynn.rpc-hijack+json\n\n",
        "CONNECT /_goRPC_ HTTP/1.1\r\nHost: x\r\naccept: application/vnd.flynn.rpc-hijack+json\r\n\r\n",
    })
    void connect_acceptingJson_speaksJson(String request) throws Exception {
        try (WireClient c = new WireClient(daemon.port())) {
            c.write(request);
            assertArrayEquals(WireClient.CONNECTED, c.readExactly(34));
            c.write(JSON_NOPE);
            assertEquals(NOPE_ANSWER, c.readLine());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "CONNECT /_goRPC_ HTTP/1.0\r\n\r\n",
        "CONNECT /_goRPC_ HTTP/1.0\r\nAccept: \r\n\r\n",
        "CONNECT /_goRPC_ HTTP/1.0\nAccept: application/vnd.flynn.rpc-hijack+gob\n\n",
        "CONNECT /_goRPC_ HTTP/1.1\r\nHost: x\r\nAccept: application/vnd.flynn.rpc-hijack+json, text/plain\r\n\r\n",
    })
    void connect_withoutJsonAccept_speaksGob(String request) throws Exception {
        try (WireClient c = new WireClient(daemon.port())) {
            c.write(request);
            assertArrayEquals(WireClient.CONNECTED, c.readExactly(34));
            assertSpeaksGob(c);
        }
    }

    @Test
    void connect_withTheFirstGobRequestInTheSameWrite_isAnswered() throws Exception {
        try (WireClient c = new WireClient(daemon.port())) {
            byte[] head = WireClient.GOB_CONNECT.getBytes(StandardCharsets.US_ASCII);
            byte[] reqs = gobRegisterRequests();
            byte[] all = new byte[head.length + reqs.length];
            System.arraycopy(head, 0, all, 0, head.length);
            System.arraycopy(reqs, 0, all, head.length, reqs.length);
            c.write(all);
            assertArrayEquals(WireClient.CONNECTED, c.readExactly(34));
            assertGobRegisterReplies(c);
        }
    }

    @Test
    void connect_withTheFirstJsonRequestInTheSameWrite_isAnswered() throws Exception {
        try (WireClient c = new WireClient(daemon.port())) {
            c.write(WireClient.JSON_CONNECT + JSON_NOPE);
            assertArrayEquals(WireClient.CONNECTED, c.readExactly(34));
            assertEquals(NOPE_ANSWER, c.readLine());
        }
    }

    private String plainRequest(String request) throws Exception {
        try (WireClient c = new WireClient(daemon.port())) {
            c.write(request);
            return new String(c.readToEnd(), StandardCharsets.UTF_8);
        }
    }

    private static void assertPlainAnswer(String response, String statusLine, String contentType, String body) {
        assertTrue(response.startsWith(statusLine + "\r\n"), response);
        assertTrue(response.toLowerCase().contains("\r\ncontent-type: " + contentType.toLowerCase() + "\r\n"), response);
        int split = response.indexOf("\r\n\r\n");
        assertEquals(body, response.substring(split + 4));
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET /_goRPC_ HTTP/1.0\r\n\r\n", "connect /_goRPC_ HTTP/1.0\r\n\r\n", "POST /_goRPC_ HTTP/1.1\r\nHost: x\r\n\r\n"})
    void otherMethodOnTheRpcPath_is405AndClosed(String request) throws Exception {
        assertPlainAnswer(plainRequest(request), "HTTP/1.0 405 Method Not Allowed", "text/plain; charset=utf-8",
                "405 must CONNECT\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET /other HTTP/1.0\r\n\r\n", "CONNECT /other HTTP/1.0\r\n\r\n",
        "CONNECT /_goRPC_/x HTTP/1.0\r\n\r\n", "POST /drain/x HTTP/1.0\r\n\r\n", "POST /health HTTP/1.0\r\n\r\n"})
    void anyOtherPath_is404AndClosed(String request) throws Exception {
        assertPlainAnswer(plainRequest(request), "HTTP/1.0 404 Not Found", "text/plain; charset=utf-8",
                "404 page not found\n");
    }

    @Test
    void health_whileTheStoreIsConnected_is200WithTheBackend() throws Exception {
        String response = plainRequest("GET /health HTTP/1.0\r\n\r\n");
        assertTrue(response.startsWith("HTTP/1.0 200 OK\r\n"), response);
        JsonNode body = new ObjectMapper().readTree(response.substring(response.indexOf("\r\n\r\n") + 4));
        assertEquals("ok", body.get("status").asText());
        assertEquals("memory", body.get("backend").asText());
        assertEquals("in-memory", body.get("store").asText());
    }

    @Test
    void health_whileTheStoreIsAway_is503() throws Exception {
        daemon.backend().setConnected(false);
        String response = plainRequest("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(response.startsWith("HTTP/1.0 503 "), response);
        JsonNode body = new ObjectMapper().readTree(response.substring(response.indexOf("\r\n\r\n") + 4));
        assertEquals("unavailable", body.get("status").asText());
    }

    @Test
    void headOver8KiB_closesTheConnectionWithoutRpc() throws Exception {
        try (WireClient c = new WireClient(daemon.port())) {
            c.write("CONNECT /_goRPC_ HTTP/1.0\r\nX-Pad: " + "a".repeat(9000) + "\r\n\r\n");
            assertTrue(c.closedByPeer());
        }
        try (WireClient ok = WireClient.rpc(daemon.port(), true)) {
            ok.write(JSON_NOPE);
            assertEquals(NOPE_ANSWER, ok.readLine());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET /drain HTTP/1.0\r\n\r\n", "PUT /drain HTTP/1.1\r\nHost: x\r\n\r\n"})
    void drain_withAnotherMethod_is405AndTheDaemonKeepsRunning(String request) throws Exception {
        assertPlainAnswer(plainRequest(request), "HTTP/1.0 405 Method Not Allowed", "text/plain; charset=utf-8",
                "405 must POST\n");
        assertTrue(plainRequest("GET /health HTTP/1.0\r\n\r\n").startsWith("HTTP/1.0 200 OK\r\n"));
    }

    @Test
    void drain_fromLoopback_answers200_takesEveryInstanceOffline_andStopsTheDaemon() throws Exception {
        daemon.backend().register("web", "10.0.0.1:80", null).toCompletableFuture().get(5, TimeUnit.SECONDS);
        daemon.backend().register("db", "10.0.0.2:5432", null).toCompletableFuture().get(5, TimeUnit.SECONDS);
        io.discoverd.backend.contract.RecordingListener web = new io.discoverd.backend.contract.RecordingListener();
        daemon.backend().subscribe("web", web);
        assertEquals(1, web.awaitCurrent(Duration.ofSeconds(5)).size());

        String response = plainRequest("POST /drain?now=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
        assertPlainAnswer(response, "HTTP/1.0 200 OK", "application/json", "{\"status\":\"draining\"}\n");
        web.awaitOffline(Duration.ofSeconds(5), "10.0.0.1:80");
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(daemon.daemon::awaitClosed);
        stopped.get(15, TimeUnit.SECONDS);
        assertThrows(java.io.IOException.class, () -> new WireClient(daemon.port()).close(), "no longer listening");
    }

    @Test
    void isLoopback_acceptsOnlyLoopbackLiterals() {
        for (String yes : List.of("127.0.0.1", "127.1.2.3", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1")) {
            assertTrue(FrontDoor.isLoopback(yes), yes);
        }
        for (String no : java.util.Arrays.asList("10.0.0.1", "192.168.1.1", "::2", "fe80::1", "localhost", "", null,
                "example.com")) {
            assertFalse(FrontDoor.isLoopback(no), String.valueOf(no));
        }
    }
}
