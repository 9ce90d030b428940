package io.discoverd.server;

/**
 * The daemon could not start. {@link #exitCode()} is the process exit status {@link Main} uses:
 * 2 for a configuration problem found while starting (an unknown backend, an invalid backend
 * section, a {@code transport} this host cannot run), 1 for everything else (a locked data
 * directory, a port in use).
 */
public final class DaemonStartException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    public DaemonStartException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    /** The process exit status for this failure: 1 or 2. */
    public int exitCode() {
        return exitCode;
    }
}
