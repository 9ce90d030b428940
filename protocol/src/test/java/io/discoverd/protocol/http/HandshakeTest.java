package io.discoverd.protocol.http;

import io.discoverd.protocol.rpc.ProtocolException;
import io.discoverd.protocol.testing.WireCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HandshakeTest {

    private static final String GO_CLIENT_REQUEST =
            "CONNECT /_goRPC_ HTTP/1.0\r\nAccept: application/vnd.flynn.rpc-hijack+gob\r\n\r\n";

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static HttpRequestHead feedAll(String s) throws ProtocolException {
        byte[] b = ascii(s);
        return new HttpRequestHeadParser(8192).feed(b, 0, b.length);
    }

    @Test
    void connected_isTheExact34Bytes() {
        byte[] expected = {0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e, 0x30, 0x20, 0x32, 0x30, 0x30, 0x20, 0x43, 0x6f,
                0x6e, 0x6e, 0x65, 0x63, 0x74, 0x65, 0x64, 0x20, 0x74, 0x6f, 0x20, 0x47, 0x6f, 0x20, 0x52, 0x50, 0x43,
                0x0a, 0x0a};
        assertArrayEquals(expected, Handshake.connected());
        Handshake.connected()[0] = 0;
        assertArrayEquals(expected, Handshake.connected(), "each call returns a fresh copy");
    }

    @Test
    void goClientRequest_inOneWrite_parsesWithNoRemainingBytes() throws Exception {
        HttpRequestHead h = feedAll(GO_CLIENT_REQUEST);
        assertEquals("CONNECT", h.method());
        assertEquals("/_goRPC_", h.path());
        assertEquals("HTTP/1.0", h.version());
        assertEquals(Handshake.GOB_MEDIA_TYPE, h.header("ACCEPT"));
        assertEquals(0, h.remaining().length);
        assertEquals(Handshake.Route.CONNECT_RPC, Handshake.route(h));
        assertEquals(Handshake.Codec.GOB, Handshake.codecFor(h));
    }

    @Test
    void goClientRequest_oneBytePerFeed_returnsHeadOnlyAtTheBlankLine() throws Exception {
        byte[] b = ascii(GO_CLIENT_REQUEST);
        HttpRequestHeadParser p = new HttpRequestHeadParser(8192);
        HttpRequestHead h = null;
        for (int i = 0; i < b.length; i++) {
            h = p.feed(b, i, 1);
            if (i < b.length - 1) {
                assertNull(h, "head returned early at byte " + i);
            }
        }
        assertNotNull(h);
        assertEquals(Handshake.GOB_MEDIA_TYPE, h.header("accept"));
    }

    @Test
    void goClientRequest_inTheThreeWritesOfTheGoClient() throws Exception {
        HttpRequestHeadParser p = new HttpRequestHeadParser(8192);
        String[] parts = {"CONNECT /_goRPC_ HTTP/1.0\r\n", "Accept: application/vnd.flynn.rpc-hijack+gob\r\n", "\r\n"};
        assertNull(p.feed(ascii(parts[0]), 0, parts[0].length()));
        assertNull(p.feed(ascii(parts[1]), 0, parts[1].length()));
        HttpRequestHead h = p.feed(ascii(parts[2]), 0, 2);
        assertEquals("CONNECT", h.method());
    }

    @Test
    void bytesAfterTheBlankLine_areKeptAsTheStartOfTheRpcStream() throws Exception {
        byte[] b = ascii("xx" + GO_CLIENT_REQUEST + "\u0013\u00ffrest");
        HttpRequestHead h = new HttpRequestHeadParser(8192).feed(b, 2, b.length - 2);
        assertArrayEquals(ascii("\u0013\u00ffrest"), h.remaining());
    }

    @Test
    void lfOnlyLineEnds_areAccepted() throws Exception {
        HttpRequestHead h = feedAll("CONNECT /_goRPC_ HTTP/1.0\nAccept: application/vnd.flynn.rpc-hijack+json\n\n");
        assertEquals(Handshake.Route.CONNECT_RPC, Handshake.route(h));
        assertEquals(Handshake.Codec.JSON, Handshake.codecFor(h));
    }

    @Test
    void http11WithHost_andMixedCaseHeaderNames_areAccepted() throws Exception {
        HttpRequestHead h = feedAll("CONNECT /_goRPC_ HTTP/1.1\r\nHost: x\r\naCCEPT:   a, b  \r\naccept: second\r\n\r\n");
        assertEquals("HTTP/1.1", h.version());
        assertEquals("x", h.header("host"));
        assertEquals("a, b", h.header("Accept"), "first value wins, trimmed");
        assertNull(h.header("content-length"));
    }

    @Test
    void headOverTheLimit_isRejected() throws Exception {
        HttpRequestHeadParser p = new HttpRequestHeadParser(64);
        byte[] b = ascii("CONNECT /_goRPC_ HTTP/1.0\r\nX-Long: " + "a".repeat(100) + "\r\n\r\n");
        assertThrows(ProtocolException.class, () -> p.feed(b, 0, b.length));
        // Byte by byte, too: the limit holds without a blank line ever arriving.
        HttpRequestHeadParser q = new HttpRequestHeadParser(64);
        assertThrows(ProtocolException.class, () -> {
            for (int i = 0; i < b.length; i++) {
                q.feed(b, i, 1);
            }
        });
    }

    @Test
    void headExactlyAtTheLimit_isAccepted() throws Exception {
        byte[] b = ascii(GO_CLIENT_REQUEST);
        assertNotNull(new HttpRequestHeadParser(b.length).feed(b, 0, b.length));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "garbage\r\n\r\n",
            "CONNECT /_goRPC_\r\n\r\n",
            "CONNECT /_goRPC_ HTTP/x\r\n\r\n",
            "CONNECT  HTTP/1.0\r\n\r\n",
            "CONNECT /_goRPC_ HTTP/1.0\r\nno colon here\r\n\r\n",
            "CON(NECT /_goRPC_ HTTP/1.0\r\n\r\n"})
    void malformedHeads_areRejected(String head) {
        assertThrows(ProtocolException.class, () -> feedAll(head));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "NULL", value = {
            "NULL|GOB",
            "''|GOB",
            "application/vnd.flynn.rpc-hijack+gob|GOB",
            "application/vnd.flynn.rpc-hijack+json|JSON",
            "Application/VND.flynn.rpc-hijack+JSON; q=1|JSON",
            "' application/vnd.flynn.rpc-hijack+json '|JSON",
            "'application/vnd.flynn.rpc-hijack+json, text/plain'|GOB",
            "text/plain|GOB"})
    void acceptTableOfProtocolSection1_4(String accept, Handshake.Codec codec) {
        assertEquals(codec, Handshake.codecFor(accept));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "CONNECT|/_goRPC_|CONNECT_RPC",
            "CONNECT|/_goRPC_?x=1|CONNECT_RPC",
            "GET|/_goRPC_|METHOD_NOT_ALLOWED",
            "connect|/_goRPC_|METHOD_NOT_ALLOWED",
            "GET|/other|NOT_FOUND",
            "CONNECT|/other|NOT_FOUND",
            "CONNECT|/_goRPC_/x|NOT_FOUND"})
    void routeTableOfProtocolSection1_3(String method, String path, Handshake.Route route) {
        assertEquals(route, Handshake.route(method, path));
    }

    @Test
    void errorAnswers_haveStatusContentTypeAndBody() {
        String nf = new String(Handshake.notFound(), StandardCharsets.US_ASCII);
        assertTrue(nf.startsWith("HTTP/1.0 404 Not Found\r\n"), nf);
        assertTrue(nf.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"), nf);
        assertTrue(nf.contains("\r\nContent-Length: 19\r\n"), nf);
        assertTrue(nf.endsWith("\r\n\r\n404 page not found\n"), nf);
        String na = new String(Handshake.methodNotAllowed(), StandardCharsets.US_ASCII);
        assertTrue(na.startsWith("HTTP/1.0 405 Method Not Allowed\r\n"), na);
        assertTrue(na.contains("\r\nContent-Length: 17\r\n"), na);
        assertTrue(na.endsWith("\r\n\r\n405 must CONNECT\n"), na);
    }

    /** Every connection of http-handshake.txt: the answer class and codec match the recording. */
    @Test
    void recordedHandshakes_getTheRecordedAnswers() throws Exception {
        List<WireCapture.Connection> conns = WireCapture.load("http-handshake.txt");
        assertEquals(9, conns.size());
        for (WireCapture.Connection c : conns) {
            WireCapture.Message req = c.messages(WireCapture.Direction.C2S).get(0);
            WireCapture.Message answer = c.messages(WireCapture.Direction.S2C).get(0);
            for (boolean oneByte : new boolean[] {false, true}) {
                HttpRequestHeadParser p = new HttpRequestHeadParser(8192);
                HttpRequestHead h = null;
                byte[] b = req.bytes();
                if (oneByte) {
                    for (int i = 0; i < b.length && h == null; i++) {
                        h = p.feed(b, i, 1);
                    }
                } else {
                    h = p.feed(b, 0, b.length);
                }
                assertNotNull(h, c.title());
                byte[] ours = Handshake.answerFor(h);
                String recorded = answer.text();
                String mine = new String(ours, StandardCharsets.UTF_8);
                if (recorded.startsWith("HTTP/1.0 200")) {
                    assertArrayEquals(answer.bytes(), ours, c.title());
                    boolean json = answer.annotation().contains("JSON");
                    assertEquals(json ? Handshake.Codec.JSON : Handshake.Codec.GOB, Handshake.codecFor(h), c.title());
                } else {
                    assertEquals(recorded.substring(0, recorded.indexOf("\r\n")), mine.substring(0, mine.indexOf("\r\n")),
                            c.title());
                    assertEquals(recorded.substring(recorded.indexOf("\r\n\r\n")), mine.substring(mine.indexOf("\r\n\r\n")),
                            c.title());
                    assertTrue(mine.contains("Content-Type: text/plain; charset=utf-8\r\n"), c.title());
                }
            }
        }
    }
}
