package io.discoverd.protocol.gob;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The type definitions received on one gob stream (one direction of one connection), and the
 * operations that need them: reading a definition, checking that a type is usable, skipping a value
 * of any type (PROTOCOL.md §3.3, §3.4, §3.6, §3.7).
 *
 * <p>Ids are resolved only when a value is decoded, so definitions may arrive in any order and may
 * refer forward. Not thread-safe: one per stream.
 */
public final class GobTypeRegistry {

    /** Predefined ids (PROTOCOL.md §3.3). */
    public static final int BOOL = 1, INT = 2, UINT = 3, FLOAT = 4, BYTES = 5, STRING = 6, COMPLEX = 7,
            INTERFACE = 8, WIRE_TYPE = 16, ARRAY_TYPE = 17, COMMON_TYPE = 18, SLICE_TYPE = 19, STRUCT_TYPE = 20,
            FIELD_TYPE = 21, FIELD_TYPE_SLICE = 22, MAP_TYPE = 23;

    /** Go's {@code firstUserId}: a definition of a lower id is {@code gob: duplicate type received}. */
    public static final int FIRST_USER_ID = 64;

    /** How deeply values may nest before decoding gives up (bounds recursion on hostile input). */
    static final int MAX_DEPTH = 64;

    /** gob's own struct types (ids 16 to 23), so that values of them can be skipped like any other. */
    private static final Map<Integer, WireType> BUILTIN_TYPES = Map.of(
            WIRE_TYPE, new WireType.StructT("wireType", WIRE_TYPE, List.of(
                    new WireType.Field("ArrayT", ARRAY_TYPE), new WireType.Field("SliceT", SLICE_TYPE),
                    new WireType.Field("StructT", STRUCT_TYPE), new WireType.Field("MapT", MAP_TYPE),
                    new WireType.Field("GobEncoderT", 24), new WireType.Field("BinaryMarshalerT", 24),
                    new WireType.Field("TextMarshalerT", 24))),
            ARRAY_TYPE, new WireType.StructT("arrayType", ARRAY_TYPE, List.of(
                    new WireType.Field("CommonType", COMMON_TYPE), new WireType.Field("Elem", INT),
                    new WireType.Field("Len", INT))),
            COMMON_TYPE, new WireType.StructT("CommonType", COMMON_TYPE, List.of(
                    new WireType.Field("Name", STRING), new WireType.Field("Id", INT))),
            SLICE_TYPE, new WireType.StructT("sliceType", SLICE_TYPE, List.of(
                    new WireType.Field("CommonType", COMMON_TYPE), new WireType.Field("Elem", INT))),
            STRUCT_TYPE, new WireType.StructT("structType", STRUCT_TYPE, List.of(
                    new WireType.Field("CommonType", COMMON_TYPE), new WireType.Field("Field", FIELD_TYPE_SLICE))),
            FIELD_TYPE, new WireType.StructT("fieldType", FIELD_TYPE, List.of(
                    new WireType.Field("Name", STRING), new WireType.Field("Id", INT))),
            FIELD_TYPE_SLICE, new WireType.SliceT("[]fieldType", FIELD_TYPE_SLICE, FIELD_TYPE),
            MAP_TYPE, new WireType.StructT("mapType", MAP_TYPE, List.of(
                    new WireType.Field("CommonType", COMMON_TYPE), new WireType.Field("Key", INT),
                    new WireType.Field("Elem", INT))),
            // gobEncoderType (Go gives it id 24 internally; it only occurs inside wireType).
            24, new WireType.StructT("gobEncoderType", 24, List.of(new WireType.Field("CommonType", COMMON_TYPE))));

    private final int maxDefinitions;
    private final Map<Integer, WireType> defined = new HashMap<>();
    /** Ids whose whole type graph is known to be defined (definitions never change once received). */
    private final Set<Integer> complete = new HashSet<>();

    /**
     * @param maxDefinitions the most definitions accepted on this stream (PROTOCOL.md §3.9), e.g. 1024
     */
    public GobTypeRegistry(int maxDefinitions) {
        this.maxDefinitions = maxDefinitions;
    }

    /** Whether {@code id} is one of the predefined basic types 1 to 8. */
    public static boolean isBasic(int id) {
        return id >= BOOL && id <= INTERFACE;
    }

    /** Number of definitions received. */
    public int size() {
        return defined.size();
    }

    /**
     * The definition of a user type or of one of gob's own struct types (16 to 23).
     *
     * @return the definition, or {@code null} when the id is undefined or basic
     */
    public WireType get(int id) {
        WireType t = defined.get(id);
        return t != null ? t : BUILTIN_TYPES.get(id);
    }

    /**
     * Records a definition.
     *
     * @throws GobException an id below {@value #FIRST_USER_ID} or already defined ({@code gob: duplicate
     *                      type received}), or more than {@code maxDefinitions} definitions
     */
    public void define(int id, WireType type) throws GobException {
        if (id < FIRST_USER_ID || defined.containsKey(id)) {
            throw new GobException("gob: duplicate type received");
        }
        if (defined.size() >= maxDefinitions) {
            throw new GobException("gob: more than " + maxDefinitions + " type definitions on one stream");
        }
        defined.put(id, type);
    }

    /**
     * Reads the rest of a definition message (after its negative id) and records it.
     *
     * @param id the defined id ({@code -int} read from the message)
     * @param r  positioned after the id; must hold exactly one {@code wireType} value
     * @throws GobException a malformed {@code wireType}, extra bytes after it, or {@link #define} failing
     */
    public void readDefinition(int id, GobReader r) throws GobException {
        if (id < FIRST_USER_ID || defined.containsKey(id)) {
            throw new GobException("gob: duplicate type received");
        }
        WireType t = readWireType(r);
        if (r.remaining() > 0) {
            throw new GobException("extra data in buffer");
        }
        define(id, t);
    }

    private static WireType readWireType(GobReader r) throws GobException {
        WireType[] result = {null};
        readFields(r, 7, field -> {
            if (result[0] != null) {
                throw new GobException("gob: type definition with more than one kind");
            }
            result[0] = switch (field) {
                case 0 -> readArrayType(r);
                case 1 -> readSliceType(r);
                case 2 -> readStructType(r);
                case 3 -> readMapType(r);
                default -> readMarshalerType(r, WireType.MarshalerT.Kind.values()[field - 4]);
            };
        });
        if (result[0] == null) {
            throw new GobException("gob: empty type definition");
        }
        return result[0];
    }

    private static int nextField(int field, long delta, int numFields) throws GobException {
        if (delta < 0 || delta > numFields || field + delta >= numFields) {
            throw new GobException("gob: bad data: field numbers out of bounds");
        }
        return (int) (field + delta);
    }

    /** Reads one present field of a definition struct, given its number. */
    @FunctionalInterface
    private interface FieldReader {
        void read(int field) throws GobException;
    }

    /**
     * Walks one struct value of a type definition (§3.4): hands each present field's number to
     * {@code reader}, which reads the field's value, until the struct's terminator or the message's end.
     */
    private static void readFields(GobReader r, int numFields, FieldReader reader) throws GobException {
        int field = -1;
        while (r.remaining() > 0) {
            long delta = r.readUint();
            if (delta == 0) {
                return;
            }
            field = nextField(field, delta, numFields);
            reader.read(field);
        }
    }

    /** A CommonType value: [name, id]. */
    private record Common(String name, int id) {
        static final Common NONE = new Common("", 0);
    }

    /** The fields read so far of one definition struct; each kind uses its own. */
    private static final class Parts {
        Common common = Common.NONE;
        String name = "";
        int id;
        int elem;
        int key;
        long len;
        List<WireType.Field> fields = List.of();
    }

    private static Common readCommon(GobReader r) throws GobException {
        Parts p = new Parts();
        readFields(r, 2, field -> {
            if (field == 0) {
                p.name = r.readString();
            } else {
                p.id = r.readSmallInt();
            }
        });
        return new Common(p.name, p.id);
    }

    private static WireType readArrayType(GobReader r) throws GobException {
        Parts p = new Parts();
        readFields(r, 3, field -> {
            switch (field) {
                case 0 -> p.common = readCommon(r);
                case 1 -> p.elem = r.readSmallInt();
                default -> p.len = r.readInt();
            }
        });
        if (p.len < 0 || p.len > Integer.MAX_VALUE) {
            throw new GobException("gob: bad array length " + p.len);
        }
        return new WireType.ArrayT(p.common.name(), p.common.id(), p.elem, (int) p.len);
    }

    private static WireType readSliceType(GobReader r) throws GobException {
        Parts p = new Parts();
        readFields(r, 2, field -> {
            if (field == 0) {
                p.common = readCommon(r);
            } else {
                p.elem = r.readSmallInt();
            }
        });
        return new WireType.SliceT(p.common.name(), p.common.id(), p.elem);
    }

    private static WireType readStructType(GobReader r) throws GobException {
        Parts p = new Parts();
        readFields(r, 2, field -> {
            if (field == 0) {
                p.common = readCommon(r);
            } else {
                int n = r.readCount();
                List<WireType.Field> list = new ArrayList<>(Math.min(n, 64));
                for (int i = 0; i < n; i++) {
                    Common f = readCommon(r); // fieldType has CommonType's shape: Name, Id
                    list.add(new WireType.Field(f.name(), f.id()));
                }
                p.fields = list;
            }
        });
        return new WireType.StructT(p.common.name(), p.common.id(), p.fields);
    }

    private static WireType readMapType(GobReader r) throws GobException {
        Parts p = new Parts();
        readFields(r, 3, field -> {
            switch (field) {
                case 0 -> p.common = readCommon(r);
                case 1 -> p.key = r.readSmallInt();
                default -> p.elem = r.readSmallInt();
            }
        });
        return new WireType.MapT(p.common.name(), p.common.id(), p.key, p.elem);
    }

    private static WireType readMarshalerType(GobReader r, WireType.MarshalerT.Kind kind) throws GobException {
        Parts p = new Parts();
        readFields(r, 1, field -> p.common = readCommon(r));
        return new WireType.MarshalerT(kind, p.common.name(), p.common.id());
    }

    /**
     * Checks that {@code id} and every type reachable from it are defined, as Go does when it
     * compiles a decoder for a received type.
     *
     * @throws GobException naming the first undefined id
     */
    public void checkComplete(int id) throws GobException {
        if (isBasic(id) || complete.contains(id)) {
            return;
        }
        Set<Integer> seen = new HashSet<>();
        List<Integer> todo = new ArrayList<>();
        todo.add(id);
        while (!todo.isEmpty()) {
            int t = todo.remove(todo.size() - 1);
            if (isBasic(t) || complete.contains(t) || !seen.add(t)) {
                continue;
            }
            WireType w = get(t);
            if (w == null) {
                throw new GobException("gob: bad data: undefined type id " + t);
            }
            if (w instanceof WireType.ArrayT a) {
                todo.add(a.elem());
            } else if (w instanceof WireType.SliceT s) {
                todo.add(s.elem());
            } else if (w instanceof WireType.MapT m) {
                todo.add(m.key());
                todo.add(m.elem());
            } else if (w instanceof WireType.StructT s) {
                for (WireType.Field f : s.fields()) {
                    todo.add(f.typeId());
                }
            }
        }
        complete.addAll(seen);
    }

    /**
     * Reads and drops one value of type {@code id} (PROTOCOL.md §3.7): structs up to their
     * terminator, marshaler kinds by their byte count.
     *
     * @param depth current nesting depth (0 for a top-level field)
     * @throws GobException malformed data, an undefined id, an interface value, or nesting deeper than
     *                      {@value #MAX_DEPTH}
     */
    public void skipValue(int id, GobReader r, int depth) throws GobException {
        if (depth > MAX_DEPTH) {
            throw new GobException("gob: values nested too deeply");
        }
        switch (id) {
            case BOOL, INT, UINT, FLOAT -> r.readUint();
            case BYTES, STRING -> r.skipCounted();
            case COMPLEX -> {
                r.readUint();
                r.readUint();
            }
            case INTERFACE -> {
                if (r.readCount() != 0) {
                    throw new GobException("gob: interface values are not supported");
                }
            }
            default -> skipComposite(id, r, depth);
        }
    }

    private void skipComposite(int id, GobReader r, int depth) throws GobException {
        WireType w = get(id);
        if (w == null) {
            throw new GobException("gob: bad data: undefined type id " + id);
        }
        if (w instanceof WireType.StructT s) {
            skipStructBody(s, r, depth);
        } else if (w instanceof WireType.MapT m) {
            int n = r.readCount();
            for (int i = 0; i < n; i++) {
                skipValue(m.key(), r, depth + 1);
                skipValue(m.elem(), r, depth + 1);
            }
        } else if (w instanceof WireType.SliceT s) {
            int n = r.readCount();
            for (int i = 0; i < n; i++) {
                skipValue(s.elem(), r, depth + 1);
            }
        } else if (w instanceof WireType.ArrayT a) {
            int n = r.readCount();
            if (n != a.length()) {
                throw new GobException("gob: length mismatch in ignoreArray");
            }
            for (int i = 0; i < n; i++) {
                skipValue(a.elem(), r, depth + 1);
            }
        } else {
            r.skipCounted();
        }
    }

    /** Skips the fields of a struct value up to its terminator (or the end of the message, as Go allows). */
    public void skipStructBody(WireType.StructT s, GobReader r, int depth) throws GobException {
        int field = -1;
        int n = s.fields().size();
        while (r.remaining() > 0) {
            long delta = r.readUint();
            if (delta == 0) {
                return;
            }
            field = nextField(field, delta, n);
            skipValue(s.fields().get(field).typeId(), r, depth + 1);
        }
    }

    /** Field number after {@code field} given a received delta, checked against {@code numFields}. */
    static int advance(int field, long delta, int numFields) throws GobException {
        return nextField(field, delta, numFields);
    }
}
