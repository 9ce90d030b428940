package io.discoverd.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One item of an {@code Agent.Subscribe} stream, and the reply of {@code Agent.Leader}
 * (PROTOCOL.md §5.1, §5.5.1).
 *
 * <p>Immutable and thread-safe.
 *
 * @param name    service name, never {@code null}
 * @param addr    expanded address, never {@code null}
 * @param online  {@code true} for present (new or changed), {@code false} for gone
 * @param attrs   attributes, {@code null} for nil (always nil when offline)
 * @param created the instance's {@code Created} (PROTOCOL.md §6), an unsigned 64-bit value held
 *                in a {@code long}; 0 when offline and in the sentinel
 */
public record ServiceUpdate(String name, String addr, boolean online, Map<String, String> attrs, long created) {

    /** The all-zero update that ends a snapshot (PROTOCOL.md §5.5.1). */
    public static final ServiceUpdate SENTINEL = new ServiceUpdate("", "", false, null, 0);

    public ServiceUpdate {
        name = name == null ? "" : name;
        addr = addr == null ? "" : addr;
        attrs = attrs == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(attrs));
    }

    /** An online update. */
    public static ServiceUpdate online(String name, String addr, Map<String, String> attrs, long created) {
        return new ServiceUpdate(name, addr, true, attrs, created);
    }

    /** The offline shape: only {@code Name} and {@code Addr} (PROTOCOL.md §5.5.1). */
    public static ServiceUpdate offline(String name, String addr) {
        return new ServiceUpdate(name, addr, false, null, 0);
    }

    /** Whether this is the sentinel ({@code Name == "" && Addr == ""}, as clients test it). */
    public boolean isSentinel() {
        return name.isEmpty() && addr.isEmpty();
    }
}
