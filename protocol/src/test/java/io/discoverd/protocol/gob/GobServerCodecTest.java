package io.discoverd.protocol.gob;

import io.discoverd.protocol.Args;
import io.discoverd.protocol.PreparedUpdate;
import io.discoverd.protocol.ServiceUpdate;
import io.discoverd.protocol.rpc.ProtocolException;
import io.discoverd.protocol.rpc.RpcRequest;
import io.discoverd.protocol.testing.WireCapture;
import io.discoverd.protocol.testing.WireCapture.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.discoverd.protocol.gob.GobTestSupport.concat;
import static io.discoverd.protocol.gob.GobTestSupport.decodeAll;
import static io.discoverd.protocol.gob.GobTestSupport.def;
import static io.discoverd.protocol.gob.GobTestSupport.struct;
import static io.discoverd.protocol.gob.GobTestSupport.value;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GobServerCodecTest {

    private static final int MAX = 1 << 20;
    private static final int S = GobTypeRegistry.STRING, U = GobTypeRegistry.UINT, I = GobTypeRegistry.INT;

    static List<String> gobFiles() {
        return WireCapture.files().stream().filter(f -> f.startsWith("gob-")).toList();
    }

    private static RpcRequest req(String sm, long seq, Args args) {
        return new RpcRequest(sm, seq, null, args, null);
    }

    @Test
    void gobSession_decodesEveryRequest_wholeAndOneByteAtATime() throws Exception {
        WireCapture.Connection c = WireCapture.load("gob-session.txt").get(0);
        byte[] in = c.rpcBytes(Direction.C2S, false);
        Map<String, String> bar = Map.of("foo", "bar");
        List<RpcRequest> expected = List.of(
                req("Agent.Register", 0, new Args("web", ":8080", bar)),
                req("Agent.Register", 1, new Args("web", "10.0.0.2:8080", null)),
                req("Agent.Register", 2, new Args("web", "", null)),
                req("Agent.Subscribe", 3, new Args("web", "", null)),
                req("Agent.Register", 4, new Args("web", ":8080", bar)),
                req("Agent.Register", 5, new Args("web", ":8080", Map.of("foo", "baz"))),
                req("Agent.Unregister", 6, new Args("web", "10.0.0.2:8080", null)),
                req("Agent.Unregister", 7, new Args("web", "10.9.9.9:1", null)),
                req("CloseStream", 3, Args.EMPTY),
                req("Agent.Register", 8, new Args("web", ":7070", null)),
                req("Agent.Nope", 9, new Args("x", "", null)),
                req("Nope.Register", 10, new Args("x", "", null)),
                req("Bad", 11, new Args("x", "", null)),
                req("Agent.Register", 12, new Args("web", ":7070", null)));
        assertEquals(expected, decodeAll(new GobServerCodec(MAX), in, false));
        assertEquals(expected, decodeAll(new GobServerCodec(MAX), in, true));
    }

    @ParameterizedTest
    @MethodSource("gobFiles")
    void everyGobCapture_decodesOneRequestPerRecordedHeader(String file) throws Exception {
        for (WireCapture.Connection c : WireCapture.load(file)) {
            byte[] in = c.rpcBytes(Direction.C2S, false);
            long headers = c.messages(Direction.C2S).stream().filter(m -> m.annotation().contains("request header")).count();
            List<RpcRequest> whole = decodeAll(new GobServerCodec(MAX), in, false);
            assertEquals(headers, whole.size(), file);
            assertEquals(whole, decodeAll(new GobServerCodec(MAX), in, true), file);
            for (RpcRequest r : whole) {
                assertNull(r.argsError(), file + " " + r);
                assertNull(r.id());
            }
        }
    }

    /**
     * The server's own encoder, given the recording's type ids, reproduces every S>C gob message
     * byte for byte, definitions and their placement included (PROTOCOL.md §3.4, §3.6).
     */
    @ParameterizedTest
    @MethodSource("gobFiles")
    void serverEncoderWithRecordingIds_reproducesEveryServerMessageByteForByte(String file) throws Exception {
        for (WireCapture.Connection c : WireCapture.load(file)) {
            byte[] recorded = c.rpcBytes(Direction.S2C, false);
            GobClientDecoder dec = new GobClientDecoder(MAX);
            dec.feed(recorded, 0, recorded.length);
            GobServerEncoder enc = new GobServerEncoder(ServerTypeIds.RECORDING);
            ByteArrayOutputStream ours = new ByteArrayOutputStream();
            int responses = 0;
            for (GobClientDecoder.Response r; (r = dec.next()) != null; responses++) {
                byte[] b;
                if (!r.error().isEmpty()) {
                    b = enc.encodeEmpty(r.serviceMethod(), r.seq(), r.error());
                } else if (r.body() instanceof String s) {
                    b = enc.encodeString(r.serviceMethod(), r.seq(), s);
                } else if (((GobValues.Struct) r.body()).name().equals("ServiceUpdate")) {
                    b = enc.encodeUpdate(r.serviceMethod(), r.seq(), new PreparedUpdate(r.update()));
                } else {
                    b = enc.encodeEmpty(r.serviceMethod(), r.seq(), "");
                }
                ours.writeBytes(b);
            }
            assertTrue(responses > 0, file);
            assertArrayEquals(recorded, ours.toByteArray(), file + " / " + c.title());
        }
    }

    /** The client encoder, with the recording's client ids, reproduces every C>S gob message. */
    @ParameterizedTest
    @MethodSource("gobFiles")
    void clientEncoderWithRecordingIds_reproducesEveryClientMessageByteForByte(String file) throws Exception {
        for (WireCapture.Connection c : WireCapture.load(file)) {
            byte[] recorded = c.rpcBytes(Direction.C2S, false);
            GobClientEncoder enc = new GobClientEncoder(65, 66, 67, 69);
            ByteArrayOutputStream ours = new ByteArrayOutputStream();
            for (RpcRequest r : decodeAll(new GobServerCodec(MAX), recorded, false)) {
                ours.writeBytes(r.serviceMethod().equals(RpcRequest.CLOSE_STREAM)
                        ? enc.encodeCloseStream(r.seq()) : enc.encodeRequest(r.serviceMethod(), r.seq(), r.args()));
            }
            assertArrayEquals(recorded, ours.toByteArray(), file);
        }
    }

    @Test
    void registerReplay_withRenumberedClientTypeIds_decodesTheSame() throws Exception {
        byte[] original = WireCapture.load("gob-register.txt").get(0).rpcBytes(Direction.C2S, false);
        List<RpcRequest> expected = decodeAll(new GobServerCodec(MAX), original, false);
        GobClientEncoder enc = new GobClientEncoder(300, 77, 1000, 70000);
        ByteArrayOutputStream renumbered = new ByteArrayOutputStream();
        for (RpcRequest r : expected) {
            renumbered.writeBytes(enc.encodeRequest(r.serviceMethod(), r.seq(), r.args()));
        }
        assertFalse(java.util.Arrays.equals(original, renumbered.toByteArray()));
        assertEquals(expected, decodeAll(new GobServerCodec(MAX), renumbered.toByteArray(), true));
    }

    private static byte[] requestDef(int id) {
        return def(id, struct("Request", id, "ServiceMethod", S, "Seq", U));
    }

    private static byte[] header(int id, String sm, long seq) {
        return value(id, w -> {
            w.writeUint(1);
            w.writeString(sm);
            w.writeUint(1);
            w.writeUint(seq);
            w.writeUint(0);
        });
    }

    private static byte[] argsName(int id, String name) {
        return value(id, w -> {
            w.writeUint(1);
            w.writeString(name);
            w.writeUint(0);
        });
    }

    private static final byte[] MAP_DEF_67 = def(67, new WireType.MapT("map[string]string", 67, S, S));
    private static final byte[] ARGS_DEF_66 = def(66, struct("Args", 66, "Name", S, "Addr", S, "Attrs", 67));

    @Test
    void mapDefinedBeforeArgs_andArgsBeforeMap_bothDecode() throws Exception {
        byte[] attrsBody = value(66, w -> {
            w.writeUint(3);
            w.writeUint(1);
            w.writeString("k");
            w.writeString("v");
            w.writeUint(0);
        });
        RpcRequest expected = req("Agent.Register", 1, new Args("", "", Map.of("k", "v")));
        for (byte[] defs : new byte[][] {concat(ARGS_DEF_66, MAP_DEF_67), concat(MAP_DEF_67, ARGS_DEF_66)}) {
            byte[] in = concat(requestDef(65), header(65, "Agent.Register", 1), defs, attrsBody);
            assertEquals(List.of(expected), decodeAll(new GobServerCodec(MAX), in, true));
        }
    }

    @Test
    void definitionsOfUnusedTypes_beforeAHeader_areAcceptedAndIgnored() throws Exception {
        byte[] in = concat(
                def(90, new WireType.SliceT("[]int", 90, I)),
                def(91, new WireType.ArrayT("[3]string", 91, S, 3)),
                def(92, struct("Unused", 92, "X", 93, "Y", 999)), // refers to ids never defined
                def(94, new WireType.MarshalerT(WireType.MarshalerT.Kind.GOB_ENCODER, "time.Time", 94)),
                requestDef(65), header(65, "Agent.Subscribe", 7), ARGS_DEF_66, MAP_DEF_67, argsName(66, "web"));
        assertEquals(List.of(req("Agent.Subscribe", 7, new Args("web", "", null))),
                decodeAll(new GobServerCodec(MAX), in, false));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 127, 128, 1L << 32, -1L})
    void seqValues_areDecodedAndEchoedExactly(long seq) throws Exception {
        byte[] in = concat(requestDef(65), header(65, "Agent.Register", seq), ARGS_DEF_66, MAP_DEF_67, argsName(66, "a"));
        GobServerCodec codec = new GobServerCodec(MAX);
        RpcRequest r = decodeAll(codec, in, false).get(0);
        assertEquals(seq, r.seq());
        GobClientDecoder dec = new GobClientDecoder(MAX);
        byte[] out = codec.encodeString(r, "x");
        dec.feed(out, 0, out.length);
        GobClientDecoder.Response resp = dec.next();
        assertEquals(seq, resp.seq());
        assertEquals("Agent.Register", resp.serviceMethod());
        assertEquals("x", resp.body());
    }

    @Test
    void seq2Pow64Minus1_isTheRecordedEightByteForm() throws Exception {
        GobWriter w = new GobWriter();
        w.writeUint(-1L);
        assertArrayEquals(java.util.HexFormat.of().parseHex("f8ffffffffffffffff"), w.toByteArray());
    }

    private static void assertFatal(byte[] in) {
        GobServerCodec codec = new GobServerCodec(MAX);
        assertThrows(ProtocolException.class, () -> decodeAll(codec, in, false));
        assertThrows(ProtocolException.class, codec::next, "the codec stays failed");
    }

    @Test
    void requestDefinitionDeclaringSeqAsInt_isFatal() {
        assertFatal(concat(def(65, struct("Request", 65, "ServiceMethod", S, "Seq", I)), header(65, "Agent.Register", 1)));
    }

    @Test
    void headerThatIsAString_isFatal() {
        assertFatal(value(S, w -> {
            w.writeUint(0);
            w.writeString("Agent.Register");
        }));
    }

    @Test
    void serviceMethodOfWrongKind_isFatal() {
        assertFatal(concat(def(65, struct("Request", 65, "ServiceMethod", U, "Seq", U)), header(65, "x", 1)));
    }

    @Test
    void secondDefinitionOfAnId_isFatal() {
        assertFatal(concat(requestDef(65), requestDef(65)));
    }

    @Test
    void definitionBelowTheFirstUserId_isFatal() {
        assertFatal(requestDef(63));
        assertFatal(requestDef(6));
    }

    @Test
    void headerOfAnUndefinedTypeId_isFatal() {
        assertFatal(header(65, "Agent.Register", 1));
    }

    @Test
    void brokenFraming_isFatal() {
        assertFatal(new byte[] {(byte) 0x80, 1, 2});      // length prefix claiming 128 bytes of length
        assertFatal(new byte[] {0});                       // empty message
        assertFatal(new byte[] {(byte) 0xfc, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}); // 2 GiB
    }

    @Test
    void messageOverTheLimit_isFatalBeforeItsPayloadArrives() {
        GobServerCodec codec = new GobServerCodec(100);
        byte[] prefix = {(byte) 0xff, (byte) 200};
        codec.feed(prefix, 0, prefix.length);
        assertThrows(ProtocolException.class, codec::next);
    }

    @Test
    void definitionWithExtraBytes_isFatal() {
        byte[] d = requestDef(65);
        byte[] extra = concat(new byte[] {(byte) (d[0] + 1)}, java.util.Arrays.copyOfRange(d, 1, d.length), new byte[] {0});
        assertFatal(extra);
    }

    @Test
    void moreDefinitionsThanTheCap_isFatal() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i <= GobServerCodec.MAX_DEFINITIONS; i++) {
            out.writeBytes(def(100 + i, new WireType.SliceT("", 100 + i, I)));
        }
        assertFatal(out.toByteArray());
    }

    @Test
    void truncatedHeaderMessage_waitsForMoreBytes() throws Exception {
        byte[] in = concat(requestDef(65), header(65, "Agent.Register", 1));
        GobServerCodec codec = new GobServerCodec(MAX);
        codec.feed(in, 0, in.length - 1);
        assertNull(codec.next());
    }

    @Test
    void attrsOfTypeMapStringInt_isAPerCallError_andTheCodecStaysUsable() throws Exception {
        byte[] in = concat(requestDef(65), header(65, "Agent.Register", 1),
                def(66, struct("Args", 66, "Name", S, "Addr", S, "Attrs", 67)),
                def(67, new WireType.MapT("map[string]int", 67, S, I)),
                value(66, w -> {
                    w.writeUint(3);
                    w.writeUint(1);
                    w.writeString("k");
                    w.writeInt(5);
                    w.writeUint(0);
                }),
                header(65, "Agent.Register", 2), ARGS_DEF_SECOND, MAP_DEF_SECOND, argsName(68, "ok"));
        List<RpcRequest> got = decodeAll(new GobServerCodec(MAX), in, true);
        assertEquals(2, got.size());
        assertNull(got.get(0).args());
        assertEquals("gob: wrong type (map[string]string) for received field Args.Attrs", got.get(0).argsError());
        assertEquals(1, got.get(0).seq());
        assertEquals(req("Agent.Register", 2, new Args("ok", "", null)), got.get(1));
    }

    private static final byte[] ARGS_DEF_SECOND = def(68, struct("Args", 68, "Name", S, "Addr", S, "Attrs", 69));
    private static final byte[] MAP_DEF_SECOND = def(69, new WireType.MapT("map[string]string", 69, S, S));

    @Test
    void argsStructSharingNoFieldName_isAPerCallError() throws Exception {
        byte[] in = concat(requestDef(65), header(65, "Agent.Register", 1),
                def(66, struct("Other", 66, "Port", I)),
                value(66, w -> {
                    w.writeUint(1);
                    w.writeInt(8080);
                    w.writeUint(0);
                }),
                header(65, "Agent.Register", 2), ARGS_DEF_SECOND, MAP_DEF_SECOND, argsName(68, "ok"));
        List<RpcRequest> got = decodeAll(new GobServerCodec(MAX), in, false);
        assertEquals("gob: type mismatch: no fields matched compiling decoder for Args", got.get(0).argsError());
        assertEquals(new Args("ok", "", null), got.get(1).args());
    }

    @Test
    void bodyOfANonStructOrUndefinedType_isAPerCallError() throws Exception {
        byte[] in = concat(requestDef(65), header(65, "Agent.Register", 1),
                value(S, w -> {
                    w.writeUint(0);
                    w.writeString("hello");
                }),
                header(65, "Agent.Register", 2), value(500, w -> w.writeUint(0)),
                header(65, "Agent.Register", 3), ARGS_DEF_SECOND, MAP_DEF_SECOND, argsName(68, "ok"));
        List<RpcRequest> got = decodeAll(new GobServerCodec(MAX), in, false);
        assertEquals(3, got.size());
        assertNotNull(got.get(0).argsError());
        assertNotNull(got.get(1).argsError());
        assertEquals(new Args("ok", "", null), got.get(2).args());
    }

    @Test
    void emptyStructBody_decodesAsEmptyArgs() throws Exception {
        byte[] in = concat(requestDef(65), header(65, "CloseStream", 3), def(70, struct("", 70)), value(70, w -> w.writeUint(0)));
        assertEquals(List.of(req("CloseStream", 3, Args.EMPTY)), decodeAll(new GobServerCodec(MAX), in, false));
    }

    /** Extra fields of every kind are skipped: int, nested struct, map of slices, array, marshaler. */
    @Test
    void argsWithExtraFieldsOfEveryKind_areDecodedIgnoringThem() throws Exception {
        byte[] in = concat(requestDef(65),
                def(66, struct("Args", 66, "Port", I, "Name", S, "Inner", 70, "Addr", S, "M", 71, "A", 73,
                        "T", 74, "Attrs", 67, "F", GobTypeRegistry.FLOAT, "C", GobTypeRegistry.COMPLEX,
                        "B", GobTypeRegistry.BYTES, "Ok", GobTypeRegistry.BOOL)),
                MAP_DEF_67,
                def(70, struct("Inner", 70, "X", I, "Deeper", 75)),
                def(75, struct("Deeper", 75, "S", S)),
                def(71, new WireType.MapT("map[string][]int", 71, S, 72)),
                def(72, new WireType.SliceT("[]int", 72, I)),
                def(73, new WireType.ArrayT("[2]uint", 73, U, 2)),
                def(74, new WireType.MarshalerT(WireType.MarshalerT.Kind.BINARY_MARSHALER, "time.Time", 74)),
                header(65, "Agent.Register", 9),
                value(66, w -> {
                    w.writeUint(1); w.writeInt(8080);                 // Port
                    w.writeUint(1); w.writeString("web");             // Name
                    w.writeUint(1);                                   // Inner {X: -3, Deeper {S: "z"}}
                    w.writeUint(1); w.writeInt(-3); w.writeUint(1); w.writeUint(1); w.writeString("z"); w.writeUint(0);
                    w.writeUint(0);
                    w.writeUint(1); w.writeString("1.2.3.4:5");       // Addr
                    w.writeUint(1); w.writeUint(1); w.writeString("k"); w.writeUint(2); w.writeInt(1); w.writeInt(2); // M
                    w.writeUint(1); w.writeUint(2); w.writeUint(300); w.writeUint(7); // A
                    w.writeUint(1); w.writeBytes(new byte[] {1, 2, 3}); // T
                    w.writeUint(1); w.writeUint(1); w.writeString("a"); w.writeString("b"); // Attrs
                    w.writeUint(1); w.writeUint(Long.reverseBytes(Double.doubleToLongBits(1.5))); // F
                    w.writeUint(1); w.writeUint(0); w.writeUint(0);   // C
                    w.writeUint(1); w.writeBytes(new byte[] {9});     // B
                    w.writeUint(1); w.writeBool(true);                // Ok
                    w.writeUint(0);
                }));
        assertEquals(List.of(req("Agent.Register", 9, new Args("web", "1.2.3.4:5", Map.of("a", "b")))),
                decodeAll(new GobServerCodec(MAX), in, true));
    }

    @Test
    void unknownMethodWithABodyOfANeverSeenType_isConsumed_andLaterRequestsDecode() throws Exception {
        byte[] in = concat(requestDef(65), header(65, "Agent.Nope", 1),
                def(80, struct("Weird", 80, "List", 81)), def(81, new WireType.SliceT("[]string", 81, S)),
                value(80, w -> {
                    w.writeUint(1); w.writeUint(2); w.writeString("a"); w.writeString("b"); w.writeUint(0);
                }),
                header(65, "Agent.Register", 2), ARGS_DEF_SECOND, MAP_DEF_SECOND, argsName(68, "ok"));
        List<RpcRequest> got = decodeAll(new GobServerCodec(MAX), in, false);
        assertEquals(2, got.size());
        assertEquals("Agent.Nope", got.get(0).serviceMethod());
        assertNotNull(got.get(0).argsError());
        assertEquals(req("Agent.Register", 2, new Args("ok", "", null)), got.get(1));
    }

    @Test
    void zeroFieldsPresentInTheValue_areAccepted() throws Exception {
        byte[] in = concat(requestDef(65),
                value(65, w -> {
                    w.writeUint(1); w.writeString(""); w.writeUint(1); w.writeUint(0); w.writeUint(0);
                }),
                ARGS_DEF_66, MAP_DEF_67,
                value(66, w -> {
                    w.writeUint(1); w.writeString(""); w.writeUint(1); w.writeString(""); w.writeUint(1); w.writeUint(0);
                    w.writeUint(0);
                }));
        assertEquals(List.of(req("", 0, new Args("", "", Map.of()))), decodeAll(new GobServerCodec(MAX), in, false));
    }

    @Test
    void serverEncoder_definesEachTypeOncePerConnection_withDefaultIds() throws Exception {
        GobServerCodec codec = new GobServerCodec(MAX);
        RpcRequest call = req("Agent.Subscribe", 3, Args.EMPTY);
        GobClientDecoder dec = new GobClientDecoder(MAX);
        List<byte[]> outs = List.of(
                codec.encodeUpdate(call, ServiceUpdate.online("web", "1.2.3.4:5", Map.of(), 5)),
                codec.encodeUpdate(call, ServiceUpdate.SENTINEL),
                codec.encodeError(call, "EOS"),
                codec.encodeEmpty(req("Agent.Unregister", 4, Args.EMPTY)),
                codec.encodeString(req("Agent.Register", 5, Args.EMPTY), ""));
        List<GobClientDecoder.Response> got = new ArrayList<>();
        for (byte[] b : outs) {
            dec.feed(b, 0, b.length);
            got.add(dec.next());
        }
        assertEquals(4, dec.types().size(), "Response, ServiceUpdate, map, empty struct");
        for (int id = 65; id <= 68; id++) {
            assertNotNull(dec.types().get(id));
        }
        assertEquals(ServiceUpdate.online("web", "1.2.3.4:5", Map.of(), 5), got.get(0).update());
        assertEquals(ServiceUpdate.SENTINEL, got.get(1).update());
        assertEquals("EOS", got.get(2).error());
        assertEquals(4, got.get(3).seq());
        assertEquals("", got.get(4).body());
        assertArrayEquals(java.util.HexFormat.of().parseHex("030c0000"),
                java.util.Arrays.copyOfRange(outs.get(4), outs.get(4).length - 4, outs.get(4).length),
                "an empty string reply is sent in singleton form");
    }
}
