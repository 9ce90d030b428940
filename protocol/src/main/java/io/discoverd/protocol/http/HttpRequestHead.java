package io.discoverd.protocol.http;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The parsed head of the HTTP request that opens a connection (PROTOCOL.md §1.2), as produced by
 * {@link HttpRequestHeadParser}.
 *
 * <p>Immutable apart from {@code remaining}, which callers must not modify (it is handed over, not
 * copied).
 *
 * @param method    the request method exactly as sent (case preserved: {@code connect} is not
 *                  {@code CONNECT}, PROTOCOL.md §1.3)
 * @param path      the request target exactly as sent (query included, if any)
 * @param version   the protocol version, e.g. {@code HTTP/1.0}
 * @param headers   header names lower-cased, values trimmed; the first value of a repeated header
 *                  wins; unmodifiable, never {@code null}
 * @param remaining bytes that arrived after the blank line ending the head: the start of the RPC
 *                  stream (PROTOCOL.md §1.5), possibly empty, never {@code null}
 */
public record HttpRequestHead(String method, String path, String version,
                              Map<String, String> headers, byte[] remaining) {

    public HttpRequestHead {
        headers = headers == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        remaining = remaining == null ? new byte[0] : remaining;
    }

    /**
     * Looks up a header case-insensitively.
     *
     * @param name header name in any case
     * @return the first value, trimmed, or {@code null} when absent
     */
    public String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    /** The request path without its query string, as requests are routed (PROTOCOL.md §1.3). */
    public String pathWithoutQuery() {
        return withoutQuery(path);
    }

    /** {@code target} cut at its first {@code ?}. */
    static String withoutQuery(String target) {
        int q = target.indexOf('?');
        return q >= 0 ? target.substring(0, q) : target;
    }
}
