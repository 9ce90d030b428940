package io.discoverd.backend.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The instance node's JSON: layout, nil versus empty attrs, and tolerance of foreign data. */
class StoredInstanceTest {

    private static String json(StoredInstance s) {
        return new String(s.toBytes(), StandardCharsets.UTF_8);
    }

    private static StoredInstance parse(String s) {
        return StoredInstance.parse(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void layout_attrsThenCreated_nilIsNullAndEmptyIsEmptyObject() {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("foo", "bar");
        a.put("ü", "\"q\"");
        assertEquals("{\"attrs\":{\"foo\":\"bar\",\"ü\":\"\\\"q\\\"\"},\"created\":42}", json(new StoredInstance(a, 42)));
        assertEquals("{\"attrs\":null,\"created\":7}", json(new StoredInstance(null, 7)));
        assertEquals("{\"attrs\":{},\"created\":7}", json(new StoredInstance(Map.of(), 7)));
    }

    @Test
    void parse_roundTripsAndKeepsNilDistinctFromEmpty() {
        assertNull(parse("{\"attrs\":null,\"created\":3}").attrs());
        assertEquals(Map.of(), parse("{\"attrs\":{},\"created\":3}").attrs());
        assertEquals(new StoredInstance(Map.of("k", "v"), 9), parse("{\"created\":9,\"attrs\":{\"k\":\"v\"},\"later\":1}"));
    }

    @Test
    void parse_foreignOrBrokenData_isNotAnInstance() {
        assertNull(StoredInstance.parse(null));
        assertNull(StoredInstance.parse(new byte[0]));
        assertNull(parse("not json"));
        assertNull(parse("{\"attrs\":null}"));
        assertNull(parse("{\"attrs\":null,\"created\":0}"));
        assertNull(parse("[1,2]"));
    }
}
