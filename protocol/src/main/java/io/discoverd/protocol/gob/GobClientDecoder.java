package io.discoverd.protocol.gob;

import io.discoverd.protocol.ServiceUpdate;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decodes responses from one connection's server-to-client gob stream (PROTOCOL.md §2.1, §3): each
 * a {@code Response} header and a body of whatever type the server sent.
 *
 * <p>Checks the kinds a Go client checks (PROTOCOL.md §3.8: {@code Seq} uint, strings as strings).
 * Not thread-safe: one per connection, fed from one thread.
 */
public final class GobClientDecoder {

    /**
     * One decoded response.
     *
     * @param serviceMethod the header's method ({@code ""} when absent)
     * @param seq           the header's Seq, unsigned 64-bit
     * @param error         the header's Error ({@code ""} on success)
     * @param bodyTypeId    the body's type id in the server's id space
     * @param body          the body decoded by {@link GobValues} (a {@link String} for a Register reply, a
     *                      {@link GobValues.Struct} for a struct)
     */
    public record Response(String serviceMethod, long seq, String error, int bodyTypeId, Object body) {

        /** The body as a ServiceUpdate (fields matched by name; absent fields are zero). */
        public ServiceUpdate update() throws GobException {
            return toServiceUpdate(body);
        }
    }

    private final GobInput input;
    private final GobTypeRegistry types;
    private GobValues.Struct header;

    /** @param maxMessageBytes the largest message accepted, in bytes */
    public GobClientDecoder(int maxMessageBytes) {
        this.input = new GobInput(maxMessageBytes);
        this.types = new GobTypeRegistry(GobServerCodec.MAX_DEFINITIONS);
    }

    /** Appends received bytes (copied). */
    public void feed(byte[] data, int offset, int length) {
        input.feed(data, offset, length);
    }

    /** The server's definitions received so far. */
    public GobTypeRegistry types() {
        return types;
    }

    /**
     * The next complete response.
     *
     * @return the response, or {@code null} when more bytes are needed
     * @throws GobException anything a Go client would treat as fatal for the connection (PROTOCOL.md §2.6)
     */
    public Response next() throws GobException {
        while (input.nextMessage()) {
            GobReader r = input.reader();
            int id = r.readSmallInt();
            if (id < 0) {
                types.readDefinition(-id, r);
                input.consume();
                continue;
            }
            Object value = GobValues.decodeTopLevel(types, id, r);
            input.consume();
            if (header == null) {
                if (!(value instanceof GobValues.Struct s)) {
                    throw new GobException("gob: type mismatch in decoder: want struct type Response; got non-struct");
                }
                checkKind(s, "ServiceMethod", String.class);
                checkKind(s, "Seq", Long.class);
                checkKind(s, "Error", String.class);
                WireType.StructT def = (WireType.StructT) types.get(id);
                for (WireType.Field f : def.fields()) {
                    if (f.name().equals("Seq") && f.typeId() != GobTypeRegistry.UINT) {
                        throw new GobException("gob: wrong type (uint64) for received field Response.Seq");
                    }
                }
                header = s;
                continue;
            }
            GobValues.Struct h = header;
            header = null;
            return new Response((String) h.get("ServiceMethod", ""), (Long) h.get("Seq", 0L),
                    (String) h.get("Error", ""), id, value);
        }
        return null;
    }

    private static void checkKind(GobValues.Struct s, String field, Class<?> kind) throws GobException {
        Object v = s.fields().get(field);
        if (v != null && !kind.isInstance(v)) {
            throw new GobException("gob: wrong type for received field Response." + field);
        }
    }

    /** Maps a decoded struct body to a ServiceUpdate, Go's way: by field name, absent fields zero. */
    @SuppressWarnings("unchecked")
    public static ServiceUpdate toServiceUpdate(Object body) throws GobException {
        if (!(body instanceof GobValues.Struct s)) {
            throw new GobException("gob: type mismatch in decoder: want struct type ServiceUpdate; got non-struct");
        }
        try {
            Map<Object, Object> attrs = (Map<Object, Object>) s.fields().get("Attrs");
            Map<String, String> a = null;
            if (attrs != null) {
                a = new LinkedHashMap<>();
                for (Map.Entry<Object, Object> e : attrs.entrySet()) {
                    a.put((String) e.getKey(), (String) e.getValue());
                }
            }
            return new ServiceUpdate((String) s.get("Name", ""), (String) s.get("Addr", ""),
                    (Boolean) s.get("Online", false), a, (Long) s.get("Created", 0L));
        } catch (ClassCastException e) {
            throw new GobException("gob: wrong type for a ServiceUpdate field: " + e.getMessage());
        }
    }
}
