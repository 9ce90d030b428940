package io.discoverd.protocol.gob;

import io.discoverd.protocol.ServiceUpdate;

import java.util.List;
import java.util.Map;

/**
 * Encodes the server's responses on one connection's server-to-client gob stream (PROTOCOL.md §2.1,
 * §3.4 to §3.6, §3.8).
 *
 * <p>Types (Response, the anonymous empty struct, ServiceUpdate, map[string]string) have fixed ids
 * and are each defined lazily, once per connection, immediately before the first value that needs
 * them, with the names and field order of the original, so that the output equals the original's
 * byte for byte apart from ids and map order. Each call returns one complete response to be written
 * as one unit, in call order. Not thread-safe: the caller serialises calls (the connection's
 * writer), which also keeps the "defined" bookkeeping consistent with the byte order on the wire.
 */
public final class GobServerEncoder {

    private final ServerTypeIds ids;
    private final byte[] responseDef;
    private final byte[] emptyDef;
    private final byte[] updateDef;
    private final byte[] mapDef;
    private boolean responseSent;
    private boolean emptySent;
    private boolean updateSent;
    private boolean mapSent;
    private final GobWriter out = new GobWriter(256);
    private final GobWriter payload = new GobWriter(256);

    /** An encoder with this server's fixed ids (65 Response, 66 empty, 67 ServiceUpdate, 68 map). */
    public GobServerEncoder() {
        this(ServerTypeIds.DEFAULT);
    }

    GobServerEncoder(ServerTypeIds ids) {
        this.ids = ids;
        this.responseDef = definition(ids.response(), new WireType.StructT("Response", ids.response(), List.of(
                new WireType.Field("ServiceMethod", GobTypeRegistry.STRING),
                new WireType.Field("Seq", GobTypeRegistry.UINT),
                new WireType.Field("Error", GobTypeRegistry.STRING))));
        this.emptyDef = definition(ids.empty(), new WireType.StructT("", ids.empty(), List.of()));
        this.updateDef = definition(ids.serviceUpdate(), new WireType.StructT("ServiceUpdate", ids.serviceUpdate(),
                List.of(new WireType.Field("Name", GobTypeRegistry.STRING),
                        new WireType.Field("Addr", GobTypeRegistry.STRING),
                        new WireType.Field("Online", GobTypeRegistry.BOOL),
                        new WireType.Field("Attrs", ids.map()),
                        new WireType.Field("Created", GobTypeRegistry.UINT))));
        this.mapDef = definition(ids.map(), new WireType.MapT("map[string]string", ids.map(),
                GobTypeRegistry.STRING, GobTypeRegistry.STRING));
    }

    private static byte[] definition(int id, WireType t) {
        GobWriter p = new GobWriter();
        p.writeInt(-id);
        t.writeTo(p);
        GobWriter m = new GobWriter();
        m.writeMessage(p);
        return m.toByteArray();
    }

    /**
     * A response whose body is a top-level string (the Register reply, PROTOCOL.md §3.5).
     *
     * @param seq unsigned 64-bit
     */
    public byte[] encodeString(String serviceMethod, long seq, String reply) {
        out.clear();
        header(serviceMethod, seq, "");
        payload.clear();
        payload.writeInt(GobTypeRegistry.STRING);
        payload.writeUint(0);
        payload.writeString(reply);
        out.writeMessage(payload);
        return out.toByteArray();
    }

    /**
     * A response with an empty-struct body: the Unregister reply when {@code error} is empty, else an
     * error response or a stream's final frame (PROTOCOL.md §2.1 rule 3).
     */
    public byte[] encodeEmpty(String serviceMethod, long seq, String error) {
        out.clear();
        header(serviceMethod, seq, error);
        if (!emptySent) {
            out.writeRaw(emptyDef);
            emptySent = true;
        }
        payload.clear();
        payload.writeInt(ids.empty());
        payload.writeUint(0);
        out.writeMessage(payload);
        return out.toByteArray();
    }

    /** A response with a ServiceUpdate body: a stream item or the Leader reply (PROTOCOL.md §3.5). */
    public byte[] encodeUpdate(String serviceMethod, long seq, ServiceUpdate update) {
        out.clear();
        header(serviceMethod, seq, "");
        if (!updateSent) {
            out.writeRaw(updateDef);
            updateSent = true;
        }
        if (!mapSent) {
            out.writeRaw(mapDef);
            mapSent = true;
        }
        payload.clear();
        payload.writeInt(ids.serviceUpdate());
        int last = -1;
        if (!update.name().isEmpty()) {
            payload.writeUint(0 - last);
            payload.writeString(update.name());
            last = 0;
        }
        if (!update.addr().isEmpty()) {
            payload.writeUint(1 - last);
            payload.writeString(update.addr());
            last = 1;
        }
        if (update.online()) {
            payload.writeUint(2 - last);
            payload.writeBool(true);
            last = 2;
        }
        Map<String, String> attrs = update.attrs();
        if (attrs != null) {
            payload.writeUint(3 - last);
            payload.writeUint(attrs.size());
            for (Map.Entry<String, String> e : attrs.entrySet()) {
                payload.writeString(e.getKey());
                payload.writeString(e.getValue() == null ? "" : e.getValue());
            }
            last = 3;
        }
        if (update.created() != 0) {
            payload.writeUint(4 - last);
            payload.writeUint(update.created());
        }
        payload.writeUint(0);
        out.writeMessage(payload);
        return out.toByteArray();
    }

    private void header(String serviceMethod, long seq, String error) {
        if (!responseSent) {
            out.writeRaw(responseDef);
            responseSent = true;
        }
        payload.clear();
        payload.writeInt(ids.response());
        int last = -1;
        if (!serviceMethod.isEmpty()) {
            payload.writeUint(1);
            payload.writeString(serviceMethod);
            last = 0;
        }
        if (seq != 0) {
            payload.writeUint(1 - last);
            payload.writeUint(seq);
            last = 1;
        }
        if (error != null && !error.isEmpty()) {
            payload.writeUint(2 - last);
            payload.writeString(error);
        }
        payload.writeUint(0);
        out.writeMessage(payload);
    }
}
