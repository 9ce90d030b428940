package io.discoverd.protocol.http;

import io.discoverd.protocol.rpc.ProtocolException;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Incremental parser for the HTTP request head that opens every connection (PROTOCOL.md §1.2).
 *
 * <p>The Go client writes its CONNECT request in three pieces, so the head is fed in whatever
 * segments TCP delivers. CRLF and bare-LF line ends, HTTP/1.0 and 1.1, and header names in any
 * case are accepted; no {@code Host} header is required.
 *
 * <p>Not thread-safe: one instance per connection, used until it returns a head.
 */
public final class HttpRequestHeadParser {

    private final int maxHeadBytes;
    private byte[] buf = new byte[256];
    private int size;
    /** Start of the line being accumulated. */
    private int lineStart;
    private String requestLine;
    private final Map<String, String> headers = new LinkedHashMap<>();
    /** Name of the last header line, for obsolete folding; whether that line's value was kept. */
    private String lastHeader;
    private boolean lastHeaderIsFirst;
    private boolean done;

    /**
     * @param maxHeadBytes the largest head accepted, in bytes, blank line included (e.g. 8192)
     */
    public HttpRequestHeadParser(int maxHeadBytes) {
        if (maxHeadBytes < 16) {
            throw new IllegalArgumentException("maxHeadBytes too small: " + maxHeadBytes);
        }
        this.maxHeadBytes = maxHeadBytes;
    }

    /**
     * Feeds bytes received from the peer, in any segmentation (one byte at a time works).
     *
     * @param data   received bytes, not retained
     * @param offset start in {@code data}
     * @param length number of bytes
     * @return the head once its blank line has arrived (bytes after it are in
     *         {@link HttpRequestHead#remaining()}), otherwise {@code null}
     * @throws ProtocolException a malformed request line or header line, or a head larger than
     *                           {@code maxHeadBytes}
     * @throws IllegalStateException when called again after a head was returned
     */
    public HttpRequestHead feed(byte[] data, int offset, int length) throws ProtocolException {
        if (done) {
            throw new IllegalStateException("head already parsed");
        }
        for (int i = 0; i < length; i++) {
            byte b = data[offset + i];
            if (size == maxHeadBytes) {
                throw new ProtocolException("HTTP request head larger than " + maxHeadBytes + " bytes");
            }
            if (size == buf.length) {
                buf = Arrays.copyOf(buf, Math.min(maxHeadBytes, buf.length * 2));
            }
            buf[size++] = b;
            if (b == '\n') {
                int end = size - 1;
                if (end > lineStart && buf[end - 1] == '\r') {
                    end--;
                }
                String line = new String(buf, lineStart, end - lineStart, StandardCharsets.ISO_8859_1);
                lineStart = size;
                if (line.isEmpty() && requestLine == null) {
                    // RFC 9112 §2.2: ignore empty lines before the request line.
                    continue;
                }
                if (line.isEmpty()) {
                    done = true;
                    int rest = length - i - 1;
                    byte[] remaining = Arrays.copyOfRange(data, offset + i + 1, offset + i + 1 + rest);
                    return build(remaining);
                }
                if (requestLine == null) {
                    requestLine = line;
                    parseRequestLine(line); // fail early
                } else {
                    header(line);
                }
            }
        }
        return null;
    }

    private HttpRequestHead build(byte[] remaining) throws ProtocolException {
        String[] parts = parseRequestLine(requestLine);
        return new HttpRequestHead(parts[0], parts[1], parts[2], headers, remaining);
    }

    private static String[] parseRequestLine(String line) throws ProtocolException {
        int s1 = line.indexOf(' ');
        int s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
        if (s1 <= 0 || s2 < 0 || s2 == s1 + 1 || line.indexOf(' ', s2 + 1) >= 0) {
            throw new ProtocolException("malformed HTTP request line: " + abbreviate(line));
        }
        String method = line.substring(0, s1);
        String path = line.substring(s1 + 1, s2);
        String version = line.substring(s2 + 1);
        for (int i = 0; i < method.length(); i++) {
            if (!isTokenChar(method.charAt(i))) {
                throw new ProtocolException("malformed HTTP method: " + abbreviate(method));
            }
        }
        if (!isHttpVersion(version)) {
            throw new ProtocolException("malformed HTTP version: " + abbreviate(version));
        }
        return new String[] {method, path, version};
    }

    private void header(String line) throws ProtocolException {
        char first = line.charAt(0);
        if (first == ' ' || first == '\t') {
            // Obsolete line folding: continue the previous header's value.
            if (lastHeader == null) {
                throw new ProtocolException("malformed HTTP header continuation: " + abbreviate(line));
            }
            if (lastHeaderIsFirst) {
                headers.put(lastHeader, (headers.get(lastHeader) + " " + line.trim()).trim());
            }
            return;
        }
        int colon = line.indexOf(':');
        if (colon <= 0) {
            throw new ProtocolException("malformed HTTP header line: " + abbreviate(line));
        }
        String name = line.substring(0, colon);
        for (int i = 0; i < name.length(); i++) {
            if (!isTokenChar(name.charAt(i))) {
                throw new ProtocolException("malformed HTTP header name: " + abbreviate(name));
            }
        }
        name = name.toLowerCase(Locale.ROOT);
        lastHeader = name;
        lastHeaderIsFirst = !headers.containsKey(name);
        if (lastHeaderIsFirst) {
            headers.put(name, line.substring(colon + 1).trim());
        }
    }

    private static boolean isHttpVersion(String v) {
        if (!v.startsWith("HTTP/")) {
            return false;
        }
        int dot = v.indexOf('.', 5);
        return dot > 5 && dot < v.length() - 1 && allDigits(v, 5, dot) && allDigits(v, dot + 1, v.length())
                && dot - 5 <= 3 && v.length() - dot - 1 <= 3;
    }

    private static boolean allDigits(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** RFC 9110 §5.6.2 tchar. */
    private static boolean isTokenChar(char c) {
        if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
            return true;
        }
        return "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    private static String abbreviate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
