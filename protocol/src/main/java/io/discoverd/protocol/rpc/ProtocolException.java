package io.discoverd.protocol.rpc;

/**
 * A connection-fatal decoding failure (PROTOCOL.md §2.6): a request header that cannot be decoded,
 * broken framing, an oversized message, input that is not a JSON object. The connection must be
 * closed without a response; the message says why, for the log.
 */
public class ProtocolException extends Exception {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
