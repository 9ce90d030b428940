package io.discoverd.protocol.gob;

import io.discoverd.protocol.rpc.ProtocolException;

/**
 * A gob decoding failure (PROTOCOL.md §3.7, §3.9). Messages follow Go's {@code encoding/gob} texts
 * where one exists (e.g. {@code gob: duplicate type received}).
 *
 * <p>Whether it is fatal for the connection depends on where it happens (PROTOCOL.md §2.6): in
 * framing, a type definition or a request header it is; in a request body it becomes a per-call
 * error.
 */
public class GobException extends ProtocolException {
    private static final long serialVersionUID = 1L;

    public GobException(String message) {
        super(message);
    }
}
