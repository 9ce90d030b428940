package io.discoverd.protocol.gob;

import io.discoverd.protocol.rpc.ProtocolException;
import io.discoverd.protocol.rpc.RpcRequest;
import io.discoverd.protocol.rpc.ServerCodec;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Builders for hand-made gob streams and a driver for server codecs. */
final class GobTestSupport {

    private GobTestSupport() {
    }

    /** A framed definition message of {@code t} under {@code id}. */
    static byte[] def(int id, WireType t) {
        GobWriter p = new GobWriter();
        p.writeInt(-id);
        t.writeTo(p);
        GobWriter m = new GobWriter();
        m.writeMessage(p);
        return m.toByteArray();
    }

    /** A framed value message: {@code int(id)} then whatever {@code body} writes. */
    static byte[] value(int id, Consumer<GobWriter> body) {
        GobWriter p = new GobWriter();
        p.writeInt(id);
        body.accept(p);
        GobWriter m = new GobWriter();
        m.writeMessage(p);
        return m.toByteArray();
    }

    static WireType.StructT struct(String name, int id, Object... nameIdPairs) {
        List<WireType.Field> fields = new ArrayList<>();
        for (int i = 0; i < nameIdPairs.length; i += 2) {
            fields.add(new WireType.Field((String) nameIdPairs[i], (Integer) nameIdPairs[i + 1]));
        }
        return new WireType.StructT(name, id, fields);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Feeds {@code bytes} whole or one byte at a time, collecting every request. */
    static List<RpcRequest> decodeAll(ServerCodec codec, byte[] bytes, boolean oneByteAtATime) throws ProtocolException {
        List<RpcRequest> out = new ArrayList<>();
        if (oneByteAtATime) {
            for (int i = 0; i < bytes.length; i++) {
                codec.feed(bytes, i, 1);
                for (RpcRequest r; (r = codec.next()) != null; ) {
                    out.add(r);
                }
            }
        } else {
            codec.feed(bytes, 0, bytes.length);
            for (RpcRequest r; (r = codec.next()) != null; ) {
                out.add(r);
            }
        }
        return out;
    }
}
