package io.discoverd.backend.etcd;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The value of an instance key on etcd: its attributes as a JSON object of strings, or JSON
 * {@code null} for nil attributes (ARCHITECTURE.md, "Store layout"). Nil and empty differ
 * (PROTOCOL.md §5.3), so {@code null} and {@code {}} are kept apart.
 *
 * <p>Stateless and thread-safe.
 */
final class StoredAttrs {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What {@link #parse} makes of a value: the attrs (possibly {@code null} for nil). */
    record Parsed(Map<String, String> attrs) {
    }

    private StoredAttrs() {
    }

    /** Encodes attrs ({@code null} for nil) as UTF-8 JSON. */
    static byte[] encode(Map<String, String> attrs) {
        try {
            return JSON.writeValueAsBytes(attrs);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Decodes a stored value.
     *
     * @return empty when the value is not a JSON object of strings nor {@code null} (a key this
     *         daemon did not write; callers skip it)
     */
    static Optional<Parsed> parse(byte[] value) {
        JsonNode tree;
        try {
            tree = JSON.readTree(value);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        if (tree == null || tree.isMissingNode()) {
            return Optional.empty();
        }
        if (tree.isNull()) {
            return Optional.of(new Parsed(null));
        }
        if (!tree.isObject()) {
            return Optional.empty();
        }
        Map<String, String> attrs = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = tree.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (!f.getValue().isTextual()) {
                return Optional.empty(); // only strings: a number or null is not an attribute value
            }
            attrs.put(f.getKey(), f.getValue().textValue());
        }
        return Optional.of(new Parsed(attrs));
    }
}
