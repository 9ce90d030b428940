package io.discoverd.protocol.rpc;

import io.discoverd.protocol.ServiceUpdate;
import io.discoverd.protocol.http.Handshake;
import io.discoverd.protocol.testing.WireCapture;
import io.discoverd.protocol.testing.WireCapture.Direction;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeout;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * PROTOCOL.md §8.7 #55 at codec level: random and mutated input never makes a codec throw anything
 * but {@link ProtocolException}, never needs more memory than its message limit, and never loops.
 */
class CodecRobustnessTest {

    private static final int MAX = 4096;
    private static final int ROUNDS = 3000;

    private static List<byte[]> corpus(Handshake.Codec codec) {
        List<byte[]> out = new ArrayList<>();
        for (String f : WireCapture.files()) {
            boolean gob = f.startsWith("gob-");
            if (gob != (codec == Handshake.Codec.GOB) || f.startsWith("http-")) {
                continue;
            }
            for (WireCapture.Connection c : WireCapture.load(f)) {
                out.add(c.rpcBytes(Direction.C2S, !gob));
            }
        }
        return out;
    }

    private static byte[] mutate(byte[] src, Random rnd) {
        byte[] b = src.clone();
        int kind = rnd.nextInt(5);
        if (kind == 0) {
            byte[] r = new byte[rnd.nextInt(300)];
            rnd.nextBytes(r);
            return r;
        }
        int edits = 1 + rnd.nextInt(4);
        for (int e = 0; e < edits && b.length > 0; e++) {
            int at = rnd.nextInt(b.length);
            switch (kind) {
                case 1 -> b[at] = (byte) rnd.nextInt(256);
                case 2 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
                case 3 -> b = java.util.Arrays.copyOf(b, at); // truncate
                default -> {
                    byte[] n = new byte[b.length + 1]; // insert a byte
                    System.arraycopy(b, 0, n, 0, at);
                    n[at] = (byte) (rnd.nextBoolean() ? 0xff : rnd.nextInt(256));
                    System.arraycopy(b, at, n, at + 1, b.length - at);
                    b = n;
                }
            }
        }
        return b;
    }

    private static void run(Handshake.Codec which) {
        List<byte[]> corpus = corpus(which);
        assertTrue(!corpus.isEmpty());
        Random rnd = new Random(0x5eed + which.ordinal());
        int fatal = 0;
        int decoded = 0;
        for (int round = 0; round < ROUNDS; round++) {
            byte[] in = mutate(corpus.get(rnd.nextInt(corpus.size())), rnd);
            ServerCodec codec = ServerCodecs.create(which, MAX);
            try {
                int pos = 0;
                while (pos < in.length) {
                    int n = Math.min(in.length - pos, 1 + rnd.nextInt(64));
                    codec.feed(in, pos, n);
                    pos += n;
                    for (RpcRequest r; (r = codec.next()) != null; ) {
                        decoded++;
                        // Encoding a reply to whatever was decoded must work too.
                        codec.encodeString(r, r.serviceMethod());
                        codec.encodeError(r, "e");
                        codec.encodeEmpty(r);
                        codec.encodeUpdate(r, ServiceUpdate.online(r.serviceMethod(), "a",
                                r.args() == null ? null : r.args().attrs(), r.seq()));
                        if (r.argsError() != null && r.argsError().isEmpty()) {
                            fail("empty argsError");
                        }
                    }
                }
            } catch (ProtocolException e) {
                fatal++;
            } catch (Throwable t) {
                throw new AssertionError("round " + round + ": " + which + " threw " + t + " on "
                        + java.util.HexFormat.of().formatHex(in), t);
            }
        }
        assertTrue(fatal > 0 && decoded > 0, "fatal=" + fatal + " decoded=" + decoded);
    }

    @Test
    void gobCodec_survivesRandomAndMutatedInput() {
        assertTimeout(Duration.ofSeconds(30), () -> run(Handshake.Codec.GOB));
    }

    @Test
    void jsonCodec_survivesRandomAndMutatedInput() {
        assertTimeout(Duration.ofSeconds(30), () -> run(Handshake.Codec.JSON));
    }

    @Test
    void deeplyNestedInput_isRejectedWithoutStackOverflow() {
        ServerCodec json = ServerCodecs.create(Handshake.Codec.JSON, 1 << 20);
        byte[] deep = ("{\"id\":" + "[".repeat(200_000) + "]".repeat(200_000) + "}").getBytes();
        json.feed(deep, 0, deep.length);
        assertThrows(ProtocolException.class, json::next, "beyond Jackson's nesting limit");
        // gob: a self-referencing struct type nested 100k deep inside a body.
        io.discoverd.protocol.gob.GobWriter p = new io.discoverd.protocol.gob.GobWriter();
        ServerCodec gob = ServerCodecs.create(Handshake.Codec.GOB, 1 << 20);
        byte[] reqDef = java.util.HexFormat.of().parseHex(
                "2fff81030101075265717565737401ff82000102010d536572766963654d6574686f64010c0001035365710106000000");
        byte[] header = java.util.HexFormat.of().parseHex("13ff82010e4167656e742e526567697374657200");
        p.writeInt(-66);
        new io.discoverd.protocol.gob.WireType.StructT("Args", 66,
                List.of(new io.discoverd.protocol.gob.WireType.Field("Self", 66))).writeTo(p);
        io.discoverd.protocol.gob.GobWriter m = new io.discoverd.protocol.gob.GobWriter();
        m.writeMessage(p);
        io.discoverd.protocol.gob.GobWriter body = new io.discoverd.protocol.gob.GobWriter();
        body.writeInt(66);
        for (int i = 0; i < 100_000; i++) {
            body.writeUint(1);
        }
        m.writeMessage(body);
        gob.feed(reqDef, 0, reqDef.length);
        gob.feed(header, 0, header.length);
        byte[] rest = m.toByteArray();
        gob.feed(rest, 0, rest.length);
        try {
            RpcRequest r = gob.next();
            assertTrue(r.argsError() != null, "the body is not a usable Args");
        } catch (ProtocolException e) {
            fail("a bad body is a per-call error: " + e);
        }
    }
}
