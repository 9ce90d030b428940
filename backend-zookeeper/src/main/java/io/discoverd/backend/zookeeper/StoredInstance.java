package io.discoverd.backend.zookeeper;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The data of an instance node, {@code {"attrs": {...} or null, "created": n}} (ARCHITECTURE.md,
 * "Store layout"). Immutable; the codec is thread-safe.
 *
 * @param attrs   attributes, {@code null} for nil (kept distinct from an empty map)
 * @param created czxid of the instance's LeaderLatch node
 */
@JsonPropertyOrder({"attrs", "created"})
@JsonInclude(JsonInclude.Include.ALWAYS)
record StoredInstance(Map<String, String> attrs, long created) {

    // Unknown fields are ignored so that a later version may add some without hiding instances.
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    byte[] toBytes() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Parses a node's data.
     *
     * @return the instance, or {@code null} when the data is not a valid instance (written by
     *         something else; such nodes are ignored rather than taking a subscription down)
     */
    static StoredInstance parse(byte[] data) {
        if (data == null || data.length == 0) {
            return null;
        }
        try {
            StoredInstance s = JSON.readValue(data, StoredInstance.class);
            return s.created() >= 1 ? s : null;
        } catch (IOException e) {
            return null;
        }
    }
}
