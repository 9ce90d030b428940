package io.discoverd.server.config;

import io.vertx.core.transport.Transport;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The network transport under the daemon's listener and client connections ({@code transport} in
 * {@code conf/discoverd.yaml}): Java's NIO, or one of Netty's native Linux transports, which move
 * the same bytes with less CPU per system call (a fan-out makes one write per subscriber).
 *
 * <p>{@link #AUTO}, the default, takes Vert.x's own preference: the native transport when this host
 * can load it (epoll on Linux, io_uring where epoll cannot load), otherwise NIO, as Vert.x's
 * {@code preferNativeTransport} does. io_uring is only taken when named, as in Vert.x and Reactor
 * Netty: many hosts and container runtimes disable it, and operators often want it off. A transport
 * named explicitly must load, or the daemon does not start.
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
        return select(this, Transport.nativeTransport(), NetTransport::vertx);
    }

    /**
     * {@link #select()} with the host's facts given, for tests.
     *
     * @param wanted     the setting
     * @param preferred  Vert.x's preferred native transport for this OS ({@code null} when none)
     * @param lookup     the Vert.x transport of an explicit setting ({@code null} when Vert.x has none
     *                   for this OS)
     */
    static Transport select(NetTransport wanted, Transport preferred, Function<NetTransport, Transport> lookup) {
        if (wanted == AUTO) {
            return preferred != null && preferred.available() ? preferred : Transport.NIO;
        }
        Transport t = lookup.apply(wanted);
        if (t == null) {
            throw new IllegalStateException("transport: " + wanted.configName + " is not available on this host");
        }
        if (!t.available()) {
            Throwable why = t.unavailabilityCause();
            throw new IllegalStateException("transport: " + wanted.configName + " is not available on this host"
                    + (why == null ? "" : ": " + why) + " (transport: auto or nio work everywhere)");
        }
        return t;
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
