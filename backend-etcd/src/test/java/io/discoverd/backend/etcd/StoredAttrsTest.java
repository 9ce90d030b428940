package io.discoverd.backend.etcd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The value of an instance key: attrs as a JSON object of strings, {@code null} for nil, anything else refused. */
class StoredAttrsTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void nilAndEmptyAndStringsRoundTrip_inOrder() {
        assertArrayEquals(utf8("null"), StoredAttrs.encode(null));
        assertNull(StoredAttrs.parse(utf8("null")).orElseThrow().attrs());
        assertEquals(Map.of(), StoredAttrs.parse(StoredAttrs.encode(Map.of())).orElseThrow().attrs());
        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put("zone", "a");
        attrs.put("ünï", "\"quoted\"\n");
        assertEquals(attrs, StoredAttrs.parse(StoredAttrs.encode(attrs)).orElseThrow().attrs());
        assertEquals(List.copyOf(attrs.keySet()), List.copyOf(StoredAttrs.parse(StoredAttrs.encode(attrs)).orElseThrow().attrs().keySet()));
    }

    @Test
    void anythingButAnObjectOfStringsOrNull_isNotAnInstance() {
        for (String v : new String[] {"{\"a\":1}", "{\"a\":null}", "{\"a\":{}}", "[]", "\"x\"", "1", "", "{", "garbage"}) {
            assertTrue(StoredAttrs.parse(utf8(v)).isEmpty(), v);
        }
    }

    @Test
    void aRepeatedNameKeepsItsLastValueAndTrailingContentIsIgnored() {
        assertEquals(Map.of("a", "y"), StoredAttrs.parse(utf8("{\"a\":\"x\",\"a\":\"y\"}")).orElseThrow().attrs());
        assertEquals(Map.of("a", "x"), StoredAttrs.parse(utf8("{\"a\":\"x\"} trailing")).orElseThrow().attrs());
        assertNull(StoredAttrs.parse(utf8("null trailing")).orElseThrow().attrs());
    }
}
