package io.discoverd.protocol.rpc;

import io.discoverd.protocol.gob.GobServerCodec;
import io.discoverd.protocol.http.Handshake;
import io.discoverd.protocol.jsonrpc.JsonServerCodec;

/** Creates the server codec a connection's handshake selected (PROTOCOL.md §1.4). Thread-safe. */
public final class ServerCodecs {

    private ServerCodecs() {
    }

    /**
     * A new codec for one upgraded connection.
     *
     * @param codec           the codec chosen by {@link Handshake#codecFor(String)}
     * @param maxMessageBytes the largest message accepted, in bytes (gob message payload or JSON value)
     */
    public static ServerCodec create(Handshake.Codec codec, int maxMessageBytes) {
        return switch (codec) {
            case GOB -> new GobServerCodec(maxMessageBytes);
            case JSON -> new JsonServerCodec(maxMessageBytes);
        };
    }
}
