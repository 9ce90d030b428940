package io.discoverd.client;

import java.util.Collections;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One instance of a service as a {@link ServiceSet} knows it: an immutable value.
 *
 * <p>{@code created} is the daemon's age stamp (PROTOCOL.md §6): unique, larger for later
 * registrations, unchanged by heartbeats and attribute changes. The leader of a service is its
 * online instance with the smallest {@code created}. It is an unsigned 64-bit number held in a
 * {@code long}; compare with {@link #BY_CREATED} or {@link Long#compareUnsigned}.
 *
 * <p>Offline events ({@link ServiceSet#watch}) carry {@code online == false} with the attributes
 * and {@code created} the instance last had in the set (the wire's offline update has neither).
 *
 * <p>Immutable and thread-safe.
 *
 * @param name    the service name
 * @param addr    the address exactly as the daemon expanded it (e.g. {@code 127.0.0.1:8080}): the
 *                string {@link DiscoverdClient#register} returned for the instance
 * @param attrs    the attributes, never {@code null} (empty when the instance has none), unmodifiable,
 *                 iterated in key order
 * @param created  the instance's {@code Created}, unsigned; 0 only if the daemon never reported it
 * @param online   {@code true} while the instance is online; {@code false} in offline events only
 * @param attrsNil {@code true} when the daemon reported nil attributes rather than an empty map (they
 *                 differ on the wire, PROTOCOL.md §5.3; a change between them is a change); {@link #attrs()}
 *                 is then empty
 */
public record ServiceInstance(String name, String addr, Map<String, String> attrs, long created, boolean online, boolean attrsNil) {

    /** Orders instances oldest first (ascending unsigned {@code created}), then by address. */
    public static final Comparator<ServiceInstance> BY_CREATED =
            Comparator.<ServiceInstance>comparingLong(i -> i.created() ^ Long.MIN_VALUE).thenComparing(ServiceInstance::addr);

    /**
     * Validates and copies.
     *
     * @throws NullPointerException when {@code name} or {@code addr} is {@code null}
     * @throws IllegalArgumentException when {@code attrsNil} but {@code attrs} is not empty
     */
    public ServiceInstance {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(addr, "addr");
        if (attrsNil && attrs != null && !attrs.isEmpty()) {
            throw new IllegalArgumentException("nil attrs cannot have entries");
        }
        attrs = attrs == null || attrs.isEmpty() ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(attrs));
    }

    /**
     * An instance whose attributes are {@code attrs} as the wire has them: {@code null} for nil
     * ({@link #attrsNil()}), else the map (possibly empty).
     */
    public ServiceInstance(String name, String addr, Map<String, String> attrs, long created, boolean online) {
        this(name, addr, attrs, created, online, attrs == null);
    }

    /**
     * The host part of {@link #addr()}, as Go's {@code net.SplitHostPort} splits it: the text before
     * the last {@code :}, without IPv6 brackets. The whole address when it has no port.
     */
    public String host() {
        return splitHostPort(addr)[0];
    }

    /** The port part of {@link #addr()} (text after the last {@code :}), {@code ""} when it has none. */
    public String port() {
        return splitHostPort(addr)[1];
    }

    /**
     * Whether every entry of {@code filter} is among this instance's attributes, Go's rule: a key
     * the instance lacks matches only an empty value. An empty or {@code null} filter matches all.
     */
    public boolean matches(Map<String, String> filter) {
        if (filter == null) {
            return true;
        }
        for (Map.Entry<String, String> e : filter.entrySet()) {
            if (!attrs.getOrDefault(e.getKey(), "").equals(e.getValue() == null ? "" : e.getValue())) {
                return false;
            }
        }
        return true;
    }

    /** The same instance marked offline (attributes and {@code created} kept). */
    ServiceInstance asOffline() {
        return online ? new ServiceInstance(name, addr, attrs, created, false, attrsNil) : this;
    }

    /** Same address, attributes (nil and empty differ) and created (ignores {@code online}). */
    boolean sameState(ServiceInstance other) {
        return other != null && addr.equals(other.addr) && created == other.created && attrs.equals(other.attrs)
                && attrsNil == other.attrsNil;
    }

    static String[] splitHostPort(String addr) {
        if (addr.startsWith("[")) {
            int close = addr.indexOf(']');
            if (close > 0) {
                String host = addr.substring(1, close);
                String rest = addr.substring(close + 1);
                return new String[] {host, rest.startsWith(":") ? rest.substring(1) : ""};
            }
        }
        int colon = addr.lastIndexOf(':');
        if (colon < 0 || addr.indexOf(':') != colon) {
            // no port, or a bare IPv6 literal
            return new String[] {addr, ""};
        }
        return new String[] {addr.substring(0, colon), addr.substring(colon + 1)};
    }
}
