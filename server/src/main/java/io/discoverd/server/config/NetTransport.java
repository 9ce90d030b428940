package io.discoverd.server.config;

import io.vertx.core.transport.Transport;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The network transport under the daemon's listener, its client connections and the etcd backend's
 * gRPC connections ({@code transport} in {@code conf/discoverd.yaml}; ZooKeeper's client keeps its
 * own NIO connection): Java's NIO, or one of Netty's native Linux transports, which move the same
 * bytes with less CPU per system call (a fan-out makes one write per subscriber).
 *
 * <p>{@link #AUTO}, the default, is Netty's epoll transport when it loads on this host (Linux on
 * x86-64, the native library shipped with the daemon), otherwise NIO (macOS, Windows, other CPUs,
 * or a host where the library cannot be loaded; {@link #autoFallbackReason()} says why). io_uring is
 * only taken when named, as in Vert.x's and Reactor Netty's own preference: many hosts and container
 * runtimes disable it, and operators often want it off. A transport named explicitly must load, or
 * the daemon does not start.
 *
 * <p>Immutable and thread-safe.
 */
public enum NetTransport {
    /** The native transport when it loads on this host, else NIO (the default). */
    AUTO("auto"),
    /** Java NIO: every platform. */
    NIO("nio"),
    /** Netty's epoll transport: Linux on x86-64 (the native library shipped with the daemon). */
    EPOLL("epoll"),
    /** Netty's io_uring transport: Linux on x86-64, where the kernel allows io_uring. */
    IO_URING("io_uring");

    /** The default: {@link #AUTO}. */
    public static final NetTransport DEFAULT = AUTO;

    private final String configName;

    NetTransport(String configName) {
        this.configName = configName;
    }

    /** The name used in the config file, e.g. {@code io_uring}. */
    public String configName() {
        return configName;
    }

    /**
     * Parses a config value (case-insensitive).
     *
     * @param field the field's name, for the message
     * @param text  the value
     * @return the transport
     * @throws IllegalArgumentException naming the field and the accepted values
     */
    public static NetTransport parse(String field, String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        for (NetTransport n : values()) {
            if (n.configName.equals(t)) {
                return n;
            }
        }
        throw new IllegalArgumentException(field + ": must be one of " + String.join(", ", configNames())
                + ", got '" + text + "'");
    }

    /**
     * The Vert.x transport this setting stands for on this host.
     *
     * @return the transport to build Vert.x with; never {@code null}
     * @throws IllegalStateException when an explicitly named transport cannot be loaded here; the
     *                               message gives Netty's reason
     */
    public Transport select() {
        return select(this, NetTransport::vertx);
    }

    /**
     * {@link #select()} with the host's transports given, for tests.
     *
     * @param wanted the setting
     * @param lookup the Vert.x transport of a named setting ({@code null} when Vert.x has none here:
     *               its classes are missing)
     * @return the transport to build Vert.x with; never {@code null}
     * @throws IllegalStateException when {@code wanted} names a transport that cannot be loaded
     */
    static Transport select(NetTransport wanted, Function<NetTransport, Transport> lookup) {
        if (wanted == AUTO) {
            Transport epoll = lookup.apply(EPOLL);
            return epoll != null && epoll.available() ? epoll : Transport.NIO;
        }
        Transport t = lookup.apply(wanted);
        if (t == null || !t.available()) {
            throw new IllegalStateException("transport: " + unavailable(wanted.configName, t)
                    + " (transport: auto or nio work everywhere)");
        }
        return t;
    }

    /**
     * Why {@link #AUTO} takes NIO on this host, for the start-up log.
     *
     * @return {@code null} when epoll loads (AUTO takes it); otherwise a short reason with Netty's cause
     */
    public static String autoFallbackReason() {
        return autoFallbackReason(NetTransport::vertx);
    }

    static String autoFallbackReason(Function<NetTransport, Transport> lookup) {
        Transport epoll = lookup.apply(EPOLL);
        if (epoll == null) {
            return "epoll's classes are not on the class path";
        }
        return epoll.available() ? null : unavailable(EPOLL.configName, epoll);
    }

    /** "{@code name} is not available on this host", with Netty's reason when {@code t} gives one. */
    private static String unavailable(String name, Transport t) {
        Throwable why = t == null ? null : t.unavailabilityCause();
        return name + " is not available on this host" + (why == null ? "" : ": " + why);
    }

    private static Transport vertx(NetTransport n) {
        return switch (n) {
            case AUTO, NIO -> Transport.NIO;
            case EPOLL -> Transport.EPOLL;
            case IO_URING -> Transport.IO_URING;
        };
    }

    /** The names accepted in the config file, in declaration order. */
    public static List<String> configNames() {
        return Arrays.stream(values()).map(NetTransport::configName).toList();
    }
}
