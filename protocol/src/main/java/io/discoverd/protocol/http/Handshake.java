package io.discoverd.protocol.http;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Constants and answers of the HTTP CONNECT front door (PROTOCOL.md §1.3, §1.4, Appendix A).
 *
 * <p>Stateless and thread-safe. Every method returning {@code byte[]} returns a fresh array.
 */
public final class Handshake {

    /** The only RPC path (PROTOCOL.md §1.1). */
    public static final String RPC_PATH = "/_goRPC_";
    /** {@code Accept} value selecting gob, also the default (PROTOCOL.md §1.4). */
    public static final String GOB_MEDIA_TYPE = "application/vnd.flynn.rpc-hijack+gob";
    /** {@code Accept} value selecting JSON-RPC (PROTOCOL.md §1.4). */
    public static final String JSON_MEDIA_TYPE = "application/vnd.flynn.rpc-hijack+json";

    private static final byte[] CONNECTED = "HTTP/1.0 200 Connected to Go RPC\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final String TEXT_PLAIN = "text/plain; charset=utf-8";

    /** The RPC codec of an upgraded connection. */
    public enum Codec { GOB, JSON }

    /** How the front door answers a request (PROTOCOL.md §1.3). */
    public enum Route {
        /** {@code CONNECT /_goRPC_}: answer {@link #connected()} and switch to the RPC codec. */
        CONNECT_RPC,
        /** Another method on the RPC path: answer {@link #methodNotAllowed()}. */
        METHOD_NOT_ALLOWED,
        /** Any other path: answer {@link #notFound()} (unless the server serves that path itself). */
        NOT_FOUND
    }

    private Handshake() {
    }

    /** The 34 bytes {@code "HTTP/1.0 200 Connected to Go RPC\n\n"} (PROTOCOL.md §1.3), a fresh copy. */
    public static byte[] connected() {
        return CONNECTED.clone();
    }

    /**
     * Chooses the codec from the {@code Accept} header (PROTOCOL.md §1.4): the value is cut at the
     * first {@code ;}, trimmed and lower-cased; exactly {@link #JSON_MEDIA_TYPE} selects JSON,
     * anything else (a list included) gob.
     *
     * @param acceptOrNull the first {@code Accept} header's value, or {@code null} when absent
     */
    public static Codec codecFor(String acceptOrNull) {
        if (acceptOrNull == null) {
            return Codec.GOB;
        }
        int semi = acceptOrNull.indexOf(';');
        String v = (semi >= 0 ? acceptOrNull.substring(0, semi) : acceptOrNull).trim().toLowerCase(Locale.ROOT);
        return JSON_MEDIA_TYPE.equals(v) ? Codec.JSON : Codec.GOB;
    }

    /** The codec selected by a parsed head's {@code Accept} header (PROTOCOL.md §1.4). */
    public static Codec codecFor(HttpRequestHead head) {
        return codecFor(head.header("accept"));
    }

    /**
     * Classifies a request (PROTOCOL.md §1.3). The method is case-sensitive; the path is compared
     * without its query string.
     *
     * @param method the request method as sent
     * @param path   the request target as sent
     */
    public static Route route(String method, String path) {
        if (!RPC_PATH.equals(HttpRequestHead.withoutQuery(path))) {
            return Route.NOT_FOUND;
        }
        return "CONNECT".equals(method) ? Route.CONNECT_RPC : Route.METHOD_NOT_ALLOWED;
    }

    /** {@link #route(String, String)} of a parsed head. */
    public static Route route(HttpRequestHead head) {
        return route(head.method(), head.path());
    }

    /**
     * The bytes to answer a head with when it is not served elsewhere: {@link #connected()},
     * {@link #methodNotAllowed()} or {@link #notFound()} according to {@link #route(HttpRequestHead)}.
     */
    public static byte[] answerFor(HttpRequestHead head) {
        return switch (route(head)) {
            case CONNECT_RPC -> connected();
            case METHOD_NOT_ALLOWED -> methodNotAllowed();
            case NOT_FOUND -> notFound();
        };
    }

    /**
     * A complete HTTP/1.0 response: status line, {@code Content-Type}, {@code Content-Length},
     * {@code Connection: close}, blank line, body. The caller closes the connection after writing it.
     *
     * @param status      status code, e.g. 404
     * @param reason      reason phrase, e.g. {@code Not Found} (no CR or LF)
     * @param contentType media type of the body (no CR or LF)
     * @param body        body bytes, {@code null} for none
     */
    public static byte[] response(int status, String reason, String contentType, byte[] body) {
        byte[] b = body == null ? new byte[0] : body;
        String head = "HTTP/1.0 " + status + " " + clean(reason) + "\r\n"
                + "Content-Type: " + clean(contentType) + "\r\n"
                + "Content-Length: " + b.length + "\r\n"
                + "Connection: close\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[h.length + b.length];
        System.arraycopy(h, 0, out, 0, h.length);
        System.arraycopy(b, 0, out, h.length, b.length);
        return out;
    }

    /** 404 with {@code text/plain; charset=utf-8} body {@code "404 page not found\n"} (PROTOCOL.md §1.3). */
    public static byte[] notFound() {
        return response(404, "Not Found", TEXT_PLAIN, "404 page not found\n".getBytes(StandardCharsets.US_ASCII));
    }

    /** 405 with {@code text/plain; charset=utf-8} body {@code "405 must CONNECT\n"} (PROTOCOL.md §1.3). */
    public static byte[] methodNotAllowed() {
        return response(405, "Method Not Allowed", TEXT_PLAIN, "405 must CONNECT\n".getBytes(StandardCharsets.US_ASCII));
    }

    /** 400 for a head that could not be parsed, body {@code "400 Bad Request"} as Go's server sends it. */
    public static byte[] badRequest() {
        return response(400, "Bad Request", TEXT_PLAIN, "400 Bad Request".getBytes(StandardCharsets.US_ASCII));
    }

    private static String clean(String s) {
        return s.replace('\r', ' ').replace('\n', ' ');
    }
}
