package io.discoverd.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.discoverd.client.ServiceInstance;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The output formats, which scripts parse: quoting, unsigned {@code created}, empty cases. */
class RenderTest {

    private static ServiceInstance inst(String addr, long created, Map<String, String> attrs, boolean online) {
        return new ServiceInstance("web", addr, attrs, created, online);
    }

    @Test
    void attrs_bareWhenSafe_jsonQuotedWhenEmptyOrHoldingSeparatorsOrQuotes_inKeyOrder() {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("z", "1.2-rc+b/c@d:e_f");
        a.put("a b", "x=y");
        a.put("q", "say \"hi\"");
        a.put("e", "");
        a.put("u", "zoné");
        assertEquals("\"a b\"=\"x=y\",e=\"\",q=\"say \\\"hi\\\"\",u=\"zoné\",z=1.2-rc+b/c@d:e_f",
                Render.line(inst("h:1", 1, a, true)).substring("h:1 created=1 ".length()));
    }

    @Test
    void created_isPrintedUnsigned() {
        ServiceInstance big = inst("h:1", -1L, null, true);
        assertEquals("h:1 created=18446744073709551615", Render.line(big));
        assertEquals("{\"name\":\"web\",\"addr\":\"h:1\",\"attrs\":null,\"created\":18446744073709551615}", Render.json(big, false));
    }

    @Test
    void json_nilAttrsAreNull_emptyAttrsAreAnEmptyObject() {
        assertEquals("{\"name\":\"web\",\"addr\":\"h:1\",\"attrs\":null,\"created\":1}", Render.json(inst("h:1", 1, null, true), false));
        assertEquals("{\"name\":\"web\",\"addr\":\"h:1\",\"attrs\":{},\"created\":1}", Render.json(inst("h:1", 1, Map.of(), true), false));
        assertEquals("h:1 created=1", Render.line(inst("h:1", 1, Map.of(), true)));
    }

    @Test
    void event_padsOnlineToTheWidthOfOffline() {
        assertEquals("online  h:1 created=2 k=v", Render.event(inst("h:1", 2, Map.of("k", "v"), true)));
        assertEquals("offline h:1 created=2 k=v", Render.event(inst("h:1", 2, Map.of("k", "v"), false)));
        assertEquals("{\"name\":\"web\",\"addr\":\"h:1\",\"online\":false,\"attrs\":{\"k\":\"v\"},\"created\":2}",
                Render.json(inst("h:1", 2, Map.of("k", "v"), false), true));
    }

    @Test
    void table_emptyIsTheHeaderAlone_lastColumnUnpadded() {
        assertEquals("ADDR  CREATED  ATTRS\n", Render.table(List.of()));
        assertEquals("ADDR  CREATED  ATTRS\nh:1   7        -\n", Render.table(List.of(inst("h:1", 7, null, true))));
    }

    @Test
    void leader_noneIsReadable_andNullInJson() {
        assertEquals("(no leader)", Render.leader(Optional.empty()));
        assertEquals("null", Render.jsonLeader(Optional.empty()));
        assertEquals("[]\n", Render.jsonArray(List.of()));
    }
}
