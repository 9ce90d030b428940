package io.discoverd.protocol.gob;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes a gob value of any received type into plain Java objects, without a local type to match
 * (PROTOCOL.md §3.5): for clients, tools and tests that inspect what a peer sent.
 *
 * <p>Mapping: bool → {@link Boolean}; int → {@link Long}; uint → {@link Long} holding the unsigned
 * 64-bit value; float → {@link Double}; complex → {@code double[2]}; []byte and marshaler kinds →
 * {@code byte[]}; string → {@link String}; map → {@link LinkedHashMap}; slice and array →
 * {@link List}; struct → {@link Struct}. Stateless apart from the registry passed in; thread-safe as
 * far as that registry is not modified concurrently.
 */
public final class GobValues {

    private GobValues() {
    }

    /**
     * A decoded struct value.
     *
     * @param typeId the sender's type id
     * @param name   the sender's type name ({@code ""} when unnamed)
     * @param fields the fields present in the value, by name, in field order (zero fields the sender
     *               omitted are absent); unmodifiable
     */
    public record Struct(int typeId, String name, Map<String, Object> fields) {
        public Struct {
            fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        }

        /** A field's value, or {@code fallback} when absent. */
        public Object get(String field, Object fallback) {
            Object v = fields.get(field);
            return v != null ? v : fallback;
        }
    }

    /**
     * Decodes the value of a value message, after its type id: a struct directly, anything else in
     * singleton form ({@code 00} then the value). Bytes after the value are ignored, as Go does.
     *
     * @param types the stream's definitions
     * @param id    the value's type id
     * @param r     positioned after the type id
     * @throws GobException malformed data or an undefined or unsupported type
     */
    public static Object decodeTopLevel(GobTypeRegistry types, int id, GobReader r) throws GobException {
        if (id <= 0) {
            throw new GobException("gob: unknown type id or corrupted data");
        }
        types.checkComplete(id);
        if (types.get(id) instanceof WireType.StructT) {
            return decode(types, id, r, 0);
        }
        if (r.readUint() != 0) {
            throw new GobException("gob: decode: corrupted data: non-zero delta for singleton");
        }
        return decode(types, id, r, 0);
    }

    /** Decodes one value of type {@code id} (no singleton marker). */
    public static Object decode(GobTypeRegistry types, int id, GobReader r, int depth) throws GobException {
        if (depth > GobTypeRegistry.MAX_DEPTH) {
            throw new GobException("gob: values nested too deeply");
        }
        switch (id) {
            case GobTypeRegistry.BOOL:
                return r.readBool();
            case GobTypeRegistry.INT:
                return r.readInt();
            case GobTypeRegistry.UINT:
                return r.readUint();
            case GobTypeRegistry.FLOAT:
                return readFloat(r);
            case GobTypeRegistry.COMPLEX:
                return new double[] {readFloat(r), readFloat(r)};
            case GobTypeRegistry.BYTES:
                return r.readBytes();
            case GobTypeRegistry.STRING:
                return r.readString();
            case GobTypeRegistry.INTERFACE:
                if (r.readCount() != 0) {
                    throw new GobException("gob: interface values are not supported");
                }
                return null;
            default:
                break;
        }
        WireType w = types.get(id);
        if (w == null) {
            throw new GobException("gob: bad data: undefined type id " + id);
        }
        if (w instanceof WireType.StructT s) {
            Map<String, Object> fields = new LinkedHashMap<>();
            int field = -1;
            while (r.remaining() > 0) {
                long delta = r.readUint();
                if (delta == 0) {
                    break;
                }
                field = GobTypeRegistry.advance(field, delta, s.fields().size());
                WireType.Field f = s.fields().get(field);
                fields.put(f.name(), decode(types, f.typeId(), r, depth + 1));
            }
            return new Struct(id, s.name(), fields);
        }
        if (w instanceof WireType.MapT m) {
            int n = r.readCount();
            Map<Object, Object> map = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                Object k = decode(types, m.key(), r, depth + 1);
                map.put(k, decode(types, m.elem(), r, depth + 1));
            }
            return map;
        }
        if (w instanceof WireType.SliceT || w instanceof WireType.ArrayT) {
            int elem = w instanceof WireType.SliceT s ? s.elem() : ((WireType.ArrayT) w).elem();
            int n = r.readCount();
            if (w instanceof WireType.ArrayT a && n != a.length()) {
                throw new GobException("gob: length mismatch decoding array");
            }
            List<Object> list = new ArrayList<>(Math.min(n, 64));
            for (int i = 0; i < n; i++) {
                list.add(decode(types, elem, r, depth + 1));
            }
            return list;
        }
        return r.readBytes();
    }

    private static double readFloat(GobReader r) throws GobException {
        return Double.longBitsToDouble(Long.reverseBytes(r.readUint()));
    }
}
