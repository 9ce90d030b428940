package io.discoverd.protocol.rpc;

import io.discoverd.protocol.PreparedUpdate;
import io.discoverd.protocol.ServiceUpdate;

/**
 * The server side of one upgraded connection's RPC codec, gob (PROTOCOL.md §3) or JSON-RPC (§4):
 * a plain state machine fed bytes, with no I/O of its own.
 *
 * <p>Not thread-safe: one connection owns one codec and calls it from one thread at a time (the
 * connection's event loop). Encoding methods return one complete response (header, body and any
 * type definitions they need, PROTOCOL.md §2.1 rule 4) to be written as one unit, in the order the
 * methods were called: a gob codec records which types it has defined on this connection.
 */
public interface ServerCodec {

    /**
     * Appends bytes received from the peer.
     *
     * @param data bytes, not retained after the call
     */
    void feed(byte[] data, int offset, int length);

    /**
     * Decodes the next complete request from the bytes fed so far.
     *
     * @return the request, or {@code null} when more bytes are needed
     * @throws ProtocolException when the stream cannot be decoded safely any more (PROTOCOL.md
     *                           §2.6); the codec is unusable afterwards
     */
    RpcRequest next() throws ProtocolException;

    /** A successful {@code Agent.Register} reply: the expanded address (gob: top-level string). */
    byte[] encodeString(RpcRequest call, String reply);

    /** A successful reply whose body is the empty struct ({@code Agent.Unregister}; JSON {@code {}}). */
    byte[] encodeEmpty(RpcRequest call);

    /**
     * A stream item, or the {@code Agent.Leader} reply: a {@link ServiceUpdate} body. The body comes
     * from {@link PreparedUpdate#body}, so it is encoded once for all the streams and connections of
     * this codec kind that send the same prepared update; only the header (and, in gob, type
     * definitions this connection has not sent yet) is encoded here.
     */
    byte[] encodeUpdate(RpcRequest call, PreparedUpdate update);

    /**
     * {@link #encodeUpdate(RpcRequest, PreparedUpdate)} for an update sent once (a Leader reply):
     * its body is encoded for this frame only.
     */
    default byte[] encodeUpdate(RpcRequest call, ServiceUpdate update) {
        return encodeUpdate(call, new PreparedUpdate(update));
    }

    /**
     * An error response or a stream's final frame: {@code error} in the header (non-empty; {@code
     * "EOS"} for a normal end of stream) and an empty-struct body (PROTOCOL.md §2.1 rule 3).
     */
    byte[] encodeError(RpcRequest call, String error);
}
