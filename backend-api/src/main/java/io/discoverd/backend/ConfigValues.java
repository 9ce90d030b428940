package io.discoverd.backend;

import io.vertx.core.json.JsonObject;
import java.time.Duration;

/**
 * Typed reads of a backend's config section ({@link BackendContext#config()}), with messages that
 * name the field the operator wrote (e.g. {@code etcd.prefix: must be a string, got 5}). One set of
 * rules for every backend. Stateless and thread-safe.
 */
public final class ConfigValues {

    private ConfigValues() {
    }

    /**
     * A string field.
     *
     * @param field the field's path in the config file, for messages (e.g. {@code zookeeper.root})
     * @param dflt  returned when the field is absent; may be {@code null}
     * @throws IllegalArgumentException naming the field when the value is not a string
     */
    public static String string(JsonObject section, String key, String dflt, String field) {
        Object v = section.getValue(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException(field + ": must be a string, got " + v);
        }
        return s;
    }

    /**
     * A duration field, parsed by {@link Durations#parse} (a unit is required).
     *
     * @param field the field's path in the config file, for messages
     * @param dflt  returned when the field is absent
     * @throws IllegalArgumentException naming the field when the value is not a positive duration
     */
    public static Duration duration(JsonObject section, String key, Duration dflt, String field) {
        return section.containsKey(key) ? Durations.parse(field, section.getValue(key)) : dflt;
    }
}
