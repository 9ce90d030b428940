package io.discoverd.protocol.rpc;

import io.discoverd.protocol.Args;

/**
 * One decoded request, codec-neutral (PROTOCOL.md §2.1, §4.2).
 *
 * <p>The codec decodes the body as {@link Args} at once, whatever the method, and reports a body
 * that does not decode as {@code argsError} rather than failing: whether that is an error depends on
 * the method (PROTOCOL.md §2.5: unknown methods and CloseStream discard their body). Immutable.
 *
 * @param serviceMethod the method string exactly as received ({@code ""} when absent)
 * @param seq           gob: the request's {@code Seq} (unsigned 64-bit in a {@code long});
 *                      JSON: a per-connection number the codec assigns, unique on the connection
 * @param id            JSON: the request's {@code id} as compact JSON text ({@code "null"} when
 *                      absent); gob: {@code null}
 * @param args          the decoded body, or {@code null} when {@code argsError} is set
 * @param argsError     why the body is not an {@code Args} (a non-empty text), or {@code null}
 */
public record RpcRequest(String serviceMethod, long seq, String id, Args args, String argsError) {

    /** The pseudo-method that ends a stream (PROTOCOL.md §2.4). */
    public static final String CLOSE_STREAM = "CloseStream";

    /**
     * The key that a CloseStream names and that a stream is found by: the {@code Seq} in decimal
     * (unsigned) for gob, the compact id text for JSON (PROTOCOL.md §2.4, §4.5).
     */
    public String streamKey() {
        return id != null ? id : Long.toUnsignedString(seq);
    }
}
