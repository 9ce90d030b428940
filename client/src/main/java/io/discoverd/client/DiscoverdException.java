package io.discoverd.client;

import java.util.Objects;

/**
 * A failed {@link DiscoverdClient} or {@link ServiceSet} call. {@link #kind()} tells why; for
 * {@link Kind#SERVER_ERROR}, {@link #serverMessage()} is the daemon's error text, which is stable
 * API (PROTOCOL.md Appendix A: e.g. {@code discoverd: Addr must be set}, or a text starting with
 * {@code 100: Key not found (} for an unknown instance).
 *
 * <p>Immutable and thread-safe.
 */
public class DiscoverdException extends Exception {

    /** Why a call failed. */
    public enum Kind {
        /**
         * Not connected to the daemon (it could not be reached, or the connection dropped while the
         * call was in flight). The client reconnects on its own; retrying later may succeed. A call
         * that failed this way may or may not have taken effect.
         */
        DISCONNECTED,
        /** The client, or the service set, was closed. */
        CLOSED,
        /** No answer within the call timeout ({@link DiscoverdClient.Builder#callTimeout}); the call may still take effect. */
        TIMEOUT,
        /** The daemon answered with an error ({@link #serverMessage()}). */
        SERVER_ERROR,
        /** A {@link ServiceResolver} found no online instance of the service. */
        NO_INSTANCES,
        /** The daemon's answer could not be understood; the connection is dropped and re-established. */
        PROTOCOL,
        /** The calling thread was interrupted while waiting; its interrupt flag is set again. */
        INTERRUPTED
    }

    /** Why the call failed. */
    private final Kind kind;
    /** The daemon's error text, or {@code null}. */
    private final String serverMessage;

    /**
     * @param kind          why the call failed, not {@code null}
     * @param message       a human-readable description
     * @param serverMessage the daemon's error text for {@link Kind#SERVER_ERROR}, else {@code null}
     * @param cause         the underlying exception, or {@code null}
     */
    public DiscoverdException(Kind kind, String message, String serverMessage, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
        this.serverMessage = serverMessage;
    }

    /** Why the call failed, never {@code null}. */
    public Kind kind() {
        return kind;
    }

    /** The daemon's error text when {@link #kind()} is {@link Kind#SERVER_ERROR}, otherwise {@code null}. */
    public String serverMessage() {
        return serverMessage;
    }

    /**
     * Whether the daemon answered that it holds no such instance: {@link Kind#SERVER_ERROR} with a
     * text starting {@code 100: Key not found (} (PROTOCOL.md §5.4, the original daemon's text), as
     * an Unregister of an instance that is not live gets.
     */
    public boolean isNotFound() {
        return kind == Kind.SERVER_ERROR && serverMessage != null && serverMessage.startsWith(NOT_FOUND);
    }

    /** The start of the daemon's error text for an instance it does not hold. */
    private static final String NOT_FOUND = "100: Key not found (";

    static DiscoverdException server(String what, String serverMessage) {
        return new DiscoverdException(Kind.SERVER_ERROR, "discoverd: " + what + " failed: " + serverMessage, serverMessage, null);
    }

    static DiscoverdException of(Kind kind, String message) {
        return new DiscoverdException(kind, message, null, null);
    }

    static DiscoverdException of(Kind kind, String message, Throwable cause) {
        return new DiscoverdException(kind, message, null, cause);
    }
}
