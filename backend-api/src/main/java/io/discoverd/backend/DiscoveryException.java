package io.discoverd.backend;

/**
 * A per-call failure whose message is the error text sent on the wire. Messages are stable API
 * (PROTOCOL.md §5.2, §5.4, §5.11); subclasses name the kind so callers need not parse them.
 */
public class DiscoveryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DiscoveryException(String message) {
        super(message);
    }

    public DiscoveryException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * The failure behind the wrappers that futures add ({@link java.util.concurrent.CompletionException},
     * {@link java.util.concurrent.ExecutionException}): what a failed {@code CompletionStage} of a
     * backend really failed with. Never {@code null} for a non-null argument.
     */
    public static Throwable rootCause(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** {@code discoverd: invalid Name} (PROTOCOL.md §5.2). */
    public static final class InvalidName extends DiscoveryException {
        private static final long serialVersionUID = 1L;

        public InvalidName() {
            super("discoverd: invalid Name");
        }
    }

    /** {@code discoverd: invalid Addr} (PROTOCOL.md §5.2). */
    public static final class InvalidAddr extends DiscoveryException {
        private static final long serialVersionUID = 1L;

        public InvalidAddr() {
            super("discoverd: invalid Addr");
        }
    }

    /**
     * Unregister of an instance that is not live: {@code 100: Key not found (<key>)}, keeping the
     * original's prefix (PROTOCOL.md §5.4).
     */
    public static final class InstanceNotFound extends DiscoveryException {
        private static final long serialVersionUID = 1L;

        /** @param key the store key of the instance, e.g. {@code /discoverd/services/web/10.0.0.1:80} */
        public InstanceNotFound(String key) {
            super("100: Key not found (" + key + ")");
        }
    }

    /** The store cannot be reached, or did not answer in time: {@code discoverd: store unavailable: <detail>}. */
    public static final class StoreUnavailable extends DiscoveryException {
        private static final long serialVersionUID = 1L;

        public StoreUnavailable(String detail) {
            super("discoverd: store unavailable: " + detail);
        }

        public StoreUnavailable(String detail, Throwable cause) {
            super("discoverd: store unavailable: " + detail, cause);
        }
    }
}
