package io.discoverd.client;

import java.util.Map;

/**
 * Where the daemon listens: parsed from {@code host:port}, the form of {@code DISCOVERD}
 * (PROTOCOL.md §1.1). The single place that parses daemon addresses. Immutable.
 *
 * @param host host name or IP literal (IPv6 without brackets)
 * @param port TCP port, 1 to 65535
 */
record DaemonAddress(String host, int port) {

    /** The environment variable naming the daemon, as the Go client reads it. */
    static final String ENV = "DISCOVERD";
    /** Used when {@code DISCOVERD} is unset or empty. */
    static final DaemonAddress DEFAULT = new DaemonAddress("127.0.0.1", 1111);

    /**
     * The daemon named by {@code DISCOVERD} in {@code env}, else {@link #DEFAULT}.
     *
     * @throws IllegalArgumentException when the variable is set but malformed
     */
    static DaemonAddress fromEnvironment(Map<String, String> env) {
        String v = env.get(ENV);
        if (v == null || v.isBlank()) {
            return DEFAULT;
        }
        return parse(v);
    }

    /**
     * Parses {@code host:port} or {@code [v6]:port}, an optional {@code tcp://} prefix ignored.
     *
     * @throws IllegalArgumentException when the text has no host, no port, or a port out of range
     */
    static DaemonAddress parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("daemon address missing");
        }
        String s = text.trim();
        if (s.startsWith("tcp://")) {
            s = s.substring("tcp://".length());
        }
        if (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        String[] hp = ServiceInstance.splitHostPort(s);
        String host = hp[0];
        String port = hp[1];
        if (host.isEmpty() || port.isEmpty()) {
            throw new IllegalArgumentException("daemon address must be host:port, got \"" + text + "\"");
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("daemon address has a bad port: \"" + text + "\"");
        }
        if (p < 1 || p > 65535) {
            throw new IllegalArgumentException("daemon address port out of range: \"" + text + "\"");
        }
        return new DaemonAddress(host, p);
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
