package io.discoverd.backend.etcd;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
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
    private static final TypeReference<LinkedHashMap<String, String>> MAP = new TypeReference<>() {
    };

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
        try {
            if (JSON.readTree(value).isNull()) {
                return Optional.of(new Parsed(null));
            }
            return Optional.of(new Parsed(JSON.readValue(value, MAP)));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
