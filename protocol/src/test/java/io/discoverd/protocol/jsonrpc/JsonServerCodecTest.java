package io.discoverd.protocol.jsonrpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.discoverd.protocol.Args;
import io.discoverd.protocol.ServiceUpdate;
import io.discoverd.protocol.rpc.ProtocolException;
import io.discoverd.protocol.rpc.RpcRequest;
import io.discoverd.protocol.testing.WireCapture;
import io.discoverd.protocol.testing.WireCapture.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonServerCodecTest {

    private static final int MAX = 1 << 20;

    private static List<RpcRequest> decode(JsonServerCodec codec, String text, boolean oneByte) throws ProtocolException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        List<RpcRequest> out = new ArrayList<>();
        if (oneByte) {
            for (int i = 0; i < b.length; i++) {
                codec.feed(b, i, 1);
                for (RpcRequest r; (r = codec.next()) != null; ) {
                    out.add(r);
                }
            }
        } else {
            codec.feed(b, 0, b.length);
            for (RpcRequest r; (r = codec.next()) != null; ) {
                out.add(r);
            }
        }
        return out;
    }

    private static RpcRequest one(String text) throws ProtocolException {
        List<RpcRequest> r = decode(new JsonServerCodec(MAX), text, false);
        assertEquals(1, r.size());
        return r.get(0);
    }

    @Test
    void jsonSession_decodesEveryRequest() throws Exception {
        WireCapture.Connection c = WireCapture.load("json-session.txt").get(0);
        String in = new String(c.rpcBytes(Direction.C2S, true), StandardCharsets.UTF_8);
        for (boolean oneByte : new boolean[] {false, true}) {
            List<RpcRequest> got = decode(new JsonServerCodec(MAX), in, oneByte);
            assertEquals(List.of(
                    new RpcRequest("Agent.Register", 0, "1", new Args("api", ":9090", Map.of("role", "primary")), null),
                    new RpcRequest("Agent.Register", 1, "2", new Args("api", "", null), null),
                    new RpcRequest("Agent.Subscribe", 2, "\"sub-a\"", new Args("api", "", null), null),
                    new RpcRequest("Agent.Register", 3, "3", new Args("api", "10.1.1.1:9090", null), null),
                    new RpcRequest("Agent.Unregister", 4, "4", new Args("api", "10.1.1.1:9090", null), null),
                    new RpcRequest("CloseStream", 5, "\"sub-a\"", Args.EMPTY, null),
                    new RpcRequest("Agent.Register", 6, "5", new Args("api", "10.1.1.2:9090", null), null),
                    new RpcRequest("Agent.Nope", 7, "6", Args.EMPTY, null)), got);
        }
    }

    @Test
    void jsonEdgeCases_decodeAsTheRecordingImplies_andGarbageIsFatal() throws Exception {
        WireCapture.Connection c = WireCapture.load("json-edge-cases.txt").get(0);
        String in = new String(c.rpcBytes(Direction.C2S, true), StandardCharsets.UTF_8);
        JsonServerCodec codec = new JsonServerCodec(MAX);
        byte[] b = in.getBytes(StandardCharsets.UTF_8);
        codec.feed(b, 0, b.length);
        List<RpcRequest> got = new ArrayList<>();
        ProtocolException fatal = null;
        try {
            for (RpcRequest r; (r = codec.next()) != null; ) {
                got.add(r);
            }
        } catch (ProtocolException e) {
            fatal = e;
        }
        assertTrue(fatal != null, "garbage must be fatal");
        assertEquals(15, got.size());
        assertEquals(new RpcRequest("Agent.Register", 0, "null", new Args("x", "1.1.1.1:1", null), null), got.get(0));
        assertEquals("[1,2]", got.get(1).id());
        assertEquals(JsonServerCodec.MISSING_PARAMS, got.get(1).argsError());
        assertEquals(new RpcRequest("CloseStream", 2, "7", null, JsonServerCodec.MISSING_PARAMS), got.get(2));
        assertEquals(Args.EMPTY, got.get(3).args(), "params []");
        assertTrue(got.get(4).argsError().contains("cannot unmarshal object"), got.get(4).argsError());
        assertTrue(got.get(5).argsError().contains("Args.Attrs"), got.get(5).argsError());
        assertEquals(Map.of("a", "<&>"), got.get(6).args().attrs());
        assertEquals("{\"k\":true}", got.get(7).id());
        assertEquals(Map.of(), got.get(8).args().attrs());
        assertEquals(JsonServerCodec.MISSING_PARAMS, got.get(10).argsError());
        assertEquals("Bad", got.get(11).serviceMethod());
        assertEquals(Args.EMPTY, got.get(12).args(), "params [null]");
        assertEquals("\"s2\"", got.get(13).id());
        assertEquals("1e1", got.get(14).id());
        assertEquals(new Args("x", ":5", null), got.get(14).args());
    }

    /**
     * Every S>C line of both JSON captures is reproduced exactly by the codec's encoders (parsed
     * back into the call's id and the result kind).
     */
    @ParameterizedTest
    @ValueSource(strings = {"json-session.txt", "json-edge-cases.txt", "http-handshake.txt"})
    void everyRecordedJsonResponse_isReproducedTextually(String file) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        int checked = 0;
        for (WireCapture.Connection c : WireCapture.load(file)) {
            for (WireCapture.Message m : c.messages(Direction.S2C)) {
                if (m.close() || m.isHandshake()) {
                    continue;
                }
                String line = m.text();
                // The codec itself extracts the id text (the line has an "id" member like a request).
                RpcRequest call = one(line);
                JsonNode n = mapper.readTree(line);
                JsonServerCodec codec = new JsonServerCodec(MAX);
                JsonNode result = n.get("result");
                byte[] ours;
                if (!n.get("error").isNull()) {
                    ours = codec.encodeError(call, n.get("error").asText());
                } else if (result.isTextual()) {
                    ours = codec.encodeString(call, result.asText());
                } else if (result.has("Name")) {
                    ours = codec.encodeUpdate(call, update(result));
                } else {
                    ours = codec.encodeEmpty(call);
                }
                assertEquals(line + "\n", new String(ours, StandardCharsets.UTF_8), file + ":" + m.line());
                checked++;
            }
        }
        assertTrue(checked > 0);
    }

    private static ServiceUpdate update(JsonNode r) {
        Map<String, String> attrs = null;
        if (!r.get("Attrs").isNull()) {
            attrs = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = r.get("Attrs").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                attrs.put(e.getKey(), e.getValue().asText());
            }
        }
        return new ServiceUpdate(r.get("Name").asText(), r.get("Addr").asText(), r.get("Online").asBoolean(), attrs,
                r.get("Created").asLong());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "1|1",
            "\"x\"|\"x\"",
            "[1, 2]|[1,2]",
            "{ \"k\" : true }|{\"k\":true}",
            "null|null",
            "1e1|1e1",
            "-0.50E+3|-0.50E+3",
            "\"a<b>&\\u0041 c\"|\"a\\u003cb\\u003e\\u0026\\u0041 c\"",
            "[ ]|[]",
            "{\"a\" :[ 1 , {\"b\":\"x y\"} ] }|{\"a\":[1,{\"b\":\"x y\"}]}"})
    void idsAreEchoedCompactly_withNumberTextUnchanged(String id, String echoed) throws Exception {
        RpcRequest r = one("{\"method\":\"Agent.Nope\",\"id\":" + id + "}");
        assertEquals(echoed, r.id());
        String out = new String(new JsonServerCodec(MAX).encodeError(r, "e"), StandardCharsets.UTF_8);
        assertEquals("{\"id\":" + echoed + ",\"result\":{},\"error\":\"e\"}\n", out);
    }

    @Test
    void absentId_isNull() throws Exception {
        assertEquals("null", one("{\"method\":\"Agent.Nope\"}").id());
    }

    @Test
    void missingOrNullParams_givePerCallErrors_andTheCodecKeepsWorking() throws Exception {
        List<RpcRequest> got = decode(new JsonServerCodec(MAX),
                "{\"method\":\"Agent.Register\",\"id\":1}{\"method\":\"Agent.Register\",\"params\":null,\"id\":2}"
                        + "{\"method\":\"Agent.Register\",\"params\":[{\"Name\":\"a\",\"Addr\":\"b\"}],\"id\":3}", false);
        assertEquals(3, got.size());
        assertEquals("unexpected end of JSON input", got.get(0).argsError());
        assertNull(got.get(0).args());
        assertEquals("unexpected end of JSON input", got.get(1).argsError());
        assertEquals(new Args("a", "b", null), got.get(2).args());
        assertEquals(List.of(0L, 1L, 2L), got.stream().map(RpcRequest::seq).toList());
    }

    @Test
    void membersAreCaseInsensitive_lastDuplicateWins_unknownIgnored() throws Exception {
        RpcRequest r = one("{\"METHOD\":\"x\",\"Method\":\"Agent.Register\",\"extra\":{\"a\":[1]},\"PARAMS\":"
                + "[{\"nAmE\":\"n\",\"addr\":\"a\",\"ATTRS\":{\"K\":\"V\",\"n\":null},\"zzz\":1},2,3],\"ID\":9}");
        assertEquals("Agent.Register", r.serviceMethod());
        assertEquals("9", r.id());
        assertEquals(new Args("n", "a", Map.of("K", "V", "n", "")), r.args());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "[{\"Name\":1}]", "[{\"Attrs\":[]}]", "[{\"Attrs\":{\"a\":true}}]", "[\"str\"]", "{}", "\"x\"", "7"})
    void badParams_arePerCallErrors(String params) throws Exception {
        JsonServerCodec codec = new JsonServerCodec(MAX);
        List<RpcRequest> got = decode(codec, "{\"method\":\"Agent.Register\",\"params\":" + params + ",\"id\":1}\n"
                + "{\"method\":\"Agent.Register\",\"params\":[{\"Name\":\"ok\"}],\"id\":2}", false);
        assertEquals(2, got.size());
        assertTrue(got.get(0).argsError() != null && !got.get(0).argsError().isEmpty());
        assertNull(got.get(0).args());
        assertEquals(new Args("ok", "", null), got.get(1).args());
    }

    @Test
    void attrsNull_isNil() throws Exception {
        assertNull(one("{\"method\":\"m\",\"params\":[{\"Attrs\":null}]}").args().attrs());
    }

    @ParameterizedTest
    @ValueSource(strings = {"garbage", "7", "[1]", "\"s\"", "{\"method\":1}", "{\"method\":[\"a\"]}", "{\"a\" 1}",
            "{\"a\":tru}", "{]", "\u00ef\u00bb\u00bf{}"})
    void inputThatIsNotAValidJsonObjectOrHasANonStringMethod_isFatal(String text) {
        JsonServerCodec codec = new JsonServerCodec(MAX);
        assertThrows(ProtocolException.class, () -> decode(codec, text + "\n", false));
        assertThrows(ProtocolException.class, codec::next);
    }

    @Test
    void valueOverTheLimit_isFatal_evenBeforeItEnds() {
        JsonServerCodec codec = new JsonServerCodec(64);
        assertThrows(ProtocolException.class, () -> decode(codec, "{\"method\":\"" + "a".repeat(100), false));
    }

    @Test
    void valuesWithAnyOrNoWhitespaceBetween_areSplitCorrectly_evenWithBracesInStrings() throws Exception {
        String text = " \n\t{\"method\":\"a}\\\"{\"}{\"method\":\"b\"}\r\n  {\"method\":\"c\"}  ";
        for (boolean oneByte : new boolean[] {false, true}) {
            List<RpcRequest> got = decode(new JsonServerCodec(MAX), text, oneByte);
            assertEquals(List.of("a}\"{", "b", "c"), got.stream().map(RpcRequest::serviceMethod).toList());
        }
    }

    @Test
    void invalidUtf8InStrings_becomesReplacementCharacters() throws Exception {
        byte[] b = "{\"method\":\"m\",\"params\":[{\"Name\":\"a\u0000b\"}]}".getBytes(StandardCharsets.ISO_8859_1);
        b[b.length - 6] = (byte) 0xff; // replace the NUL placeholder with an invalid byte
        JsonServerCodec codec = new JsonServerCodec(MAX);
        codec.feed(b, 0, b.length);
        assertEquals("a\uFFFDb", codec.next().args().name());
    }

    @Test
    void output_usesGoEscapingAndSortedAttrs() throws Exception {
        JsonServerCodec codec = new JsonServerCodec(MAX);
        RpcRequest call = new RpcRequest("Agent.Subscribe", 0, "\"s\"", Args.EMPTY, null);
        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put("z", "<&>");
        attrs.put("a", "\u2028\u2029\u0001\n\r\t\"\\\u00e9\uD83D\uDE00");
        attrs.put("\uD83D\uDE00", "supplementary sorts after U+FFFD");
        attrs.put("\uFFFD", "x");
        String out = new String(codec.encodeUpdate(call, ServiceUpdate.online("n", "a", attrs, -1L)), StandardCharsets.UTF_8);
        assertEquals("{\"id\":\"s\",\"result\":{\"Name\":\"n\",\"Addr\":\"a\",\"Online\":true,\"Attrs\":{"
                + "\"a\":\"\\u2028\\u2029\\u0001\\n\\r\\t\\\"\\\\\u00e9\uD83D\uDE00\",\"z\":\"\\u003c\\u0026\\u003e\","
                + "\"\uFFFD\":\"x\",\"\uD83D\uDE00\":\"supplementary sorts after U+FFFD\"},"
                + "\"Created\":18446744073709551615},\"error\":null}\n", out);
        assertEquals("{\"id\":\"s\",\"result\":{\"Name\":\"\",\"Addr\":\"\",\"Online\":false,\"Attrs\":null,\"Created\":0},"
                + "\"error\":null}\n", new String(codec.encodeUpdate(call, ServiceUpdate.SENTINEL), StandardCharsets.UTF_8));
        assertEquals("{\"id\":\"s\",\"result\":{},\"error\":\"EOS\"}\n",
                new String(codec.encodeError(call, "EOS"), StandardCharsets.UTF_8));
        assertEquals("{\"id\":\"s\",\"result\":\"\\ufffd\",\"error\":null}\n",
                new String(codec.encodeString(call, "\uD800"), StandardCharsets.UTF_8));
    }
}
