package io.discoverd.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The argument of {@code Agent.Register}, {@code Agent.Unregister}, {@code Agent.Subscribe} and
 * {@code Agent.Leader} (PROTOCOL.md §5.1).
 *
 * <p>Zero values follow gob: a field the peer left out is {@code ""}. {@code attrs} is
 * {@code null} for a nil map, which is a different value from an empty map (PROTOCOL.md §5.3).
 * Immutable and thread-safe.
 *
 * @param name  service name, never {@code null} ({@code ""} when absent)
 * @param addr  address as sent by the client (not expanded), never {@code null}
 * @param attrs attributes, {@code null} for nil; an unmodifiable copy otherwise
 */
public record Args(String name, String addr, Map<String, String> attrs) {

    /** All fields zero: what {@code []}, {@code [null]} or an empty gob struct decode to. */
    public static final Args EMPTY = new Args("", "", null);

    public Args {
        name = name == null ? "" : name;
        addr = addr == null ? "" : addr;
        attrs = attrs == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(attrs));
    }
}
