package io.discoverd.server.config;

import java.util.Objects;

/**
 * The TCP address the daemon listens on, as written in {@code bind} or {@code --bind}
 * ({@code host:port}; an empty host means all interfaces, PROTOCOL.md §1.1).
 *
 * <p>Immutable and thread-safe.
 *
 * @param host host name or IP literal without brackets; {@code ""} for all interfaces
 * @param port TCP port, 0 to 65535 (0 picks a free port, for tests)
 */
public record BindAddress(String host, int port) {

    /** The original daemon's default, {@code :1111}: all interfaces, port 1111. */
    public static final BindAddress DEFAULT = new BindAddress("", 1111);

    public BindAddress {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    /**
     * Parses {@code host:port}, {@code :port} or {@code [ipv6]:port}.
     *
     * @param field the config field or flag, for the message (e.g. {@code bind})
     * @param text  the value, not {@code null}
     * @throws IllegalArgumentException naming {@code field} when the value is malformed
     */
    public static BindAddress parse(String field, String text) {
        String s = text.trim();
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException(field + ": expected HOST:PORT or :PORT, got '" + text + "'");
        }
        String host = s.substring(0, colon);
        String portText = s.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException(field + ": write an IPv6 host in brackets, e.g. [::1]:1111, got '" + text + "'");
        }
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(field + ": port is not a number in '" + text + "'");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(field + ": port out of range (0-65535) in '" + text + "'");
        }
        return new BindAddress(host, port);
    }

    /** The host to hand to the listener: {@code 0.0.0.0} when {@link #host()} is empty. */
    public String listenHost() {
        return host.isEmpty() ? "0.0.0.0" : host;
    }

    /** {@code host:port} as it would be written in the config ({@code :port} for all interfaces). */
    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
