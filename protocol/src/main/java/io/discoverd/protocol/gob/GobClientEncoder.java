package io.discoverd.protocol.gob;

import io.discoverd.protocol.Args;
import io.discoverd.protocol.rpc.RpcRequest;

import java.util.List;
import java.util.Map;

/**
 * Encodes requests on one connection's client-to-server gob stream, as the Go client does
 * (PROTOCOL.md §2.1, §3.4): {@code Request} headers and {@code Args} bodies, and the empty struct
 * that CloseStream carries.
 *
 * <p>Definitions are sent once per connection, before first use, Go's way (a struct before its
 * field types). Ids: 65 Request, 66 Args, 67 map[string]string, 68 empty struct, as a fresh Go client
 * process numbers them. Not thread-safe: the caller serialises calls in wire order.
 */
public final class GobClientEncoder {

    private final int requestId;
    private final int argsId;
    private final int mapId;
    private final int emptyId;
    private boolean requestSent;
    private boolean argsSent;
    private boolean emptySent;
    private final GobWriter out = new GobWriter(256);
    private final GobWriter payload = new GobWriter(256);

    /** An encoder for a fresh connection, with a fresh Go client's ids. */
    public GobClientEncoder() {
        this(65, 66, 67, 68);
    }

    GobClientEncoder(int requestId, int argsId, int mapId, int emptyId) {
        this.requestId = requestId;
        this.argsId = argsId;
        this.mapId = mapId;
        this.emptyId = emptyId;
    }

    /**
     * One request: header {@code {ServiceMethod, Seq}} and an {@code Args} body.
     *
     * @param seq  unsigned 64-bit
     * @param args the body, not {@code null}
     */
    public byte[] encodeRequest(String serviceMethod, long seq, Args args) {
        out.clear();
        header(serviceMethod, seq);
        if (!argsSent) {
            define(argsId, new WireType.StructT("Args", argsId, List.of(
                    new WireType.Field("Name", GobTypeRegistry.STRING),
                    new WireType.Field("Addr", GobTypeRegistry.STRING),
                    new WireType.Field("Attrs", mapId))));
            define(mapId, new WireType.MapT("map[string]string", mapId, GobTypeRegistry.STRING, GobTypeRegistry.STRING));
            argsSent = true;
        }
        payload.clear();
        payload.writeInt(argsId);
        int last = -1;
        if (!args.name().isEmpty()) {
            payload.writeUint(1);
            payload.writeString(args.name());
            last = 0;
        }
        if (!args.addr().isEmpty()) {
            payload.writeUint(1 - last);
            payload.writeString(args.addr());
            last = 1;
        }
        if (args.attrs() != null) {
            payload.writeUint(2 - last);
            payload.writeUint(args.attrs().size());
            for (Map.Entry<String, String> e : args.attrs().entrySet()) {
                payload.writeString(e.getKey());
                payload.writeString(e.getValue());
            }
        }
        payload.writeUint(0);
        out.writeMessage(payload);
        return out.toByteArray();
    }

    /** A CloseStream request for the stream {@code seq} (PROTOCOL.md §2.4), with an empty-struct body. */
    public byte[] encodeCloseStream(long seq) {
        out.clear();
        header(RpcRequest.CLOSE_STREAM, seq);
        if (!emptySent) {
            define(emptyId, new WireType.StructT("", emptyId, List.of()));
            emptySent = true;
        }
        payload.clear();
        payload.writeInt(emptyId);
        payload.writeUint(0);
        out.writeMessage(payload);
        return out.toByteArray();
    }

    private void header(String serviceMethod, long seq) {
        if (!requestSent) {
            define(requestId, new WireType.StructT("Request", requestId, List.of(
                    new WireType.Field("ServiceMethod", GobTypeRegistry.STRING),
                    new WireType.Field("Seq", GobTypeRegistry.UINT))));
            requestSent = true;
        }
        payload.clear();
        payload.writeInt(requestId);
        int last = -1;
        if (!serviceMethod.isEmpty()) {
            payload.writeUint(1);
            payload.writeString(serviceMethod);
            last = 0;
        }
        if (seq != 0) {
            payload.writeUint(1 - last);
            payload.writeUint(seq);
        }
        payload.writeUint(0);
        out.writeMessage(payload);
    }

    private void define(int id, WireType t) {
        payload.clear();
        payload.writeInt(-id);
        t.writeTo(payload);
        out.writeMessage(payload);
    }
}
