package io.discoverd.protocol.gob;

import io.discoverd.protocol.PreparedUpdate;
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
 * byte for byte apart from ids and map order. A ServiceUpdate body is taken from its
 * {@link PreparedUpdate}, where it is encoded once for every connection (the ids, hence the bytes,
 * are the same on all of them); only the header and the definitions are per connection. Each call
 * returns one complete response to be written as one unit, in call order. Not thread-safe: the
 * caller serialises calls (the connection's writer), which also keeps the "defined" bookkeeping
 * consistent with the byte order on the wire.
 */
public final class GobServerEncoder {

    /** The type definitions of {@link ServerTypeIds#DEFAULT}, shared by every connection. */
    private static final Definitions DEFAULT_DEFINITIONS = Definitions.of(ServerTypeIds.DEFAULT);

    private final ServerTypeIds ids;
    private final Definitions defs;
    private final UpdateBody updateBody;
    private boolean responseSent;
    private boolean emptySent;
    private boolean updateSent;
    private boolean mapSent;
    /** Created on the first response: an idle connection holds no encoding buffers. */
    private GobWriter out;
    private GobWriter payload;

    /** An encoder with this server's fixed ids (65 Response, 66 empty, 67 ServiceUpdate, 68 map). */
    public GobServerEncoder() {
        this(ServerTypeIds.DEFAULT);
    }

    GobServerEncoder(ServerTypeIds ids) {
        this.ids = ids;
        this.defs = ids.equals(ServerTypeIds.DEFAULT) ? DEFAULT_DEFINITIONS : Definitions.of(ids);
        this.updateBody = new UpdateBody(ids);
    }

    /** The four type definitions of one set of ids, each a complete message (PROTOCOL.md §3.6). */
    private record Definitions(byte[] response, byte[] empty, byte[] update, byte[] map) {

        static Definitions of(ServerTypeIds ids) {
            return new Definitions(
                    definition(ids.response(), new WireType.StructT("Response", ids.response(), List.of(
                            new WireType.Field("ServiceMethod", GobTypeRegistry.STRING),
                            new WireType.Field("Seq", GobTypeRegistry.UINT),
                            new WireType.Field("Error", GobTypeRegistry.STRING)))),
                    definition(ids.empty(), new WireType.StructT("", ids.empty(), List.of())),
                    definition(ids.serviceUpdate(), new WireType.StructT("ServiceUpdate", ids.serviceUpdate(),
                            List.of(new WireType.Field("Name", GobTypeRegistry.STRING),
                                    new WireType.Field("Addr", GobTypeRegistry.STRING),
                                    new WireType.Field("Online", GobTypeRegistry.BOOL),
                                    new WireType.Field("Attrs", ids.map()),
                                    new WireType.Field("Created", GobTypeRegistry.UINT)))),
                    definition(ids.map(), new WireType.MapT("map[string]string", ids.map(),
                            GobTypeRegistry.STRING, GobTypeRegistry.STRING)));
        }

        private static byte[] definition(int id, WireType t) {
            GobWriter p = new GobWriter();
            p.writeInt(-id);
            t.writeTo(p);
            GobWriter m = new GobWriter();
            m.writeMessage(p);
            return m.toByteArray();
        }
    }

    /**
     * The gob body of a ServiceUpdate with given type ids: one complete message (length, type id,
     * value), the same on every connection since the ids are fixed process-wide. Stateless.
     */
    record UpdateBody(ServerTypeIds ids) implements PreparedUpdate.BodyEncoding {

        @Override
        public byte[] encode(ServiceUpdate update) {
            GobWriter payload = new GobWriter(64);
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
            GobWriter message = new GobWriter(payload.size() + 9);
            message.writeMessage(payload);
            return message.toByteArray();
        }
    }

    /** The body encoding this encoder uses for {@link #encodeUpdate}; equal for equal ids. */
    PreparedUpdate.BodyEncoding updateBody() {
        return updateBody;
    }

    /**
     * A response whose body is a top-level string (the Register reply, PROTOCOL.md §3.5).
     *
     * @param seq unsigned 64-bit
     */
    public byte[] encodeString(String serviceMethod, long seq, String reply) {
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
        header(serviceMethod, seq, error);
        if (!emptySent) {
            out.writeRaw(defs.empty());
            emptySent = true;
        }
        payload.clear();
        payload.writeInt(ids.empty());
        payload.writeUint(0);
        out.writeMessage(payload);
        return out.toByteArray();
    }

    /**
     * A response with a ServiceUpdate body, a stream item or the Leader reply (PROTOCOL.md §3.5),
     * whose body bytes come from {@code update} (encoded there once for every connection): only the
     * header and the definitions this connection lacks are encoded here.
     */
    public byte[] encodeUpdate(String serviceMethod, long seq, PreparedUpdate update) {
        byte[] body = update.body(updateBody); // first: a failure leaves this connection's state untouched
        header(serviceMethod, seq, "");
        if (!updateSent) {
            out.writeRaw(defs.update());
            updateSent = true;
        }
        if (!mapSent) {
            out.writeRaw(defs.map());
            mapSent = true;
        }
        out.writeRaw(body);
        return out.toByteArray();
    }

    /** Clears {@link #out} and writes the Response header into it, preceded by its definition once. */
    private void header(String serviceMethod, long seq, String error) {
        if (out == null) {
            out = new GobWriter(256);
            payload = new GobWriter(128);
        }
        out.clear();
        if (!responseSent) {
            out.writeRaw(defs.response());
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
