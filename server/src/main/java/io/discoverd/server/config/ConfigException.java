package io.discoverd.server.config;

/**
 * The configuration (file, flags or environment) is invalid; the daemon must not start and exits
 * with status 2. The message names the offending field and is meant for the operator.
 */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
