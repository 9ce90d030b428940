package io.discoverd.backend;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One online instance of a service as the store holds it.
 *
 * <p>Immutable and thread-safe.
 *
 * @param name    service name (validated, see {@link Validation})
 * @param addr    expanded address (validated)
 * @param attrs   attributes; {@code null} for nil, which differs from an empty map (PROTOCOL.md §5.3)
 * @param created the instance's age key: at least 1, unique in the store, strictly increasing with
 *                first registration, fixed for the instance's life (PROTOCOL.md §6.1); unsigned
 */
public record Instance(String name, String addr, Map<String, String> attrs, long created) {

    public Instance {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(addr, "addr");
        attrs = attrs == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(attrs));
    }
}
