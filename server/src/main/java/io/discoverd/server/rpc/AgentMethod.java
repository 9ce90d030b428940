package io.discoverd.server.rpc;

/**
 * The methods of the {@code Agent} service, and the one place that turns a request's
 * {@code ServiceMethod} into one of them (PROTOCOL.md §2.5 steps 2 to 4, §5.11).
 */
public enum AgentMethod {
    /** {@code Agent.Register(Args) → string} (PROTOCOL.md §5.3). */
    REGISTER("Register"),
    /** {@code Agent.Unregister(Args) → empty struct} (PROTOCOL.md §5.4). */
    UNREGISTER("Unregister"),
    /** {@code Agent.Subscribe(Args) → stream of ServiceUpdate} (PROTOCOL.md §5.5). */
    SUBSCRIBE("Subscribe"),
    /** {@code Agent.Leader(Args) → ServiceUpdate}, this daemon's extension (PROTOCOL.md §5.11). */
    LEADER("Leader");

    /** The only service (PROTOCOL.md Appendix A). */
    public static final String SERVICE = "Agent";

    /** The method's part of {@code ServiceMethod}, e.g. {@code Register}. */
    private final String wireName;

    AgentMethod(String wireName) {
        this.wireName = wireName;
    }

    /**
     * Resolves a {@code ServiceMethod} other than {@code CloseStream} (PROTOCOL.md §2.5): split at
     * every {@code .} into exactly two parts, service {@code Agent}, a known method, all
     * case-sensitive.
     *
     * @param serviceMethod the string exactly as received, not {@code null}
     * @return the method
     * @throws UnknownMethodException with the exact wire text ({@code rpc: service/method request
     *                                ill-formed: X}, {@code rpc: can't find service X} or
     *                                {@code rpc: can't find method X}, X the full string)
     */
    public static AgentMethod resolve(String serviceMethod) throws UnknownMethodException {
        String[] parts = serviceMethod.split("\\.", -1);
        if (parts.length != 2) {
            throw new UnknownMethodException("rpc: service/method request ill-formed: " + serviceMethod);
        }
        if (!SERVICE.equals(parts[0])) {
            throw new UnknownMethodException("rpc: can't find service " + serviceMethod);
        }
        for (AgentMethod m : values()) {
            if (m.wireName.equals(parts[1])) {
                return m;
            }
        }
        throw new UnknownMethodException("rpc: can't find method " + serviceMethod);
    }

    /** A {@code ServiceMethod} names no method; the message is the per-call error text. */
    public static final class UnknownMethodException extends Exception {
        private static final long serialVersionUID = 1L;

        public UnknownMethodException(String message) {
            super(message, null, false, false);
        }
    }
}
