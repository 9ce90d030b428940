package io.discoverd.protocol.gob;

import java.util.List;

/**
 * A gob type definition as sent on the wire: one value of gob's {@code wireType} (PROTOCOL.md §3.4).
 *
 * <p>Immutable. {@code name} is informational ({@code ""} when unnamed); {@code id} is the
 * {@code CommonType.Id} the sender wrote.
 */
public sealed interface WireType permits WireType.ArrayT, WireType.SliceT, WireType.StructT, WireType.MapT,
        WireType.MarshalerT {

    /** {@code CommonType.Name}, {@code ""} when absent. */
    String name();

    /** {@code CommonType.Id}. */
    int id();

    /** {@code arrayType}: fixed-length array of {@code elem}. */
    record ArrayT(String name, int id, int elem, int length) implements WireType {
    }

    /** {@code sliceType}: slice of {@code elem}. */
    record SliceT(String name, int id, int elem) implements WireType {
    }

    /** {@code structType}: fields in field-number order. */
    record StructT(String name, int id, List<Field> fields) implements WireType {
        public StructT {
            fields = List.copyOf(fields);
        }
    }

    /** {@code fieldType}: a struct field's name and type id. */
    record Field(String name, int typeId) {
    }

    /** {@code mapType}. */
    record MapT(String name, int id, int key, int elem) implements WireType {
    }

    /** The three marshaler kinds ({@code GobEncoderT}, {@code BinaryMarshalerT}, {@code TextMarshalerT}). */
    record MarshalerT(Kind kind, String name, int id) implements WireType {
        /** Which {@code wireType} field carried the definition. */
        public enum Kind { GOB_ENCODER, BINARY_MARSHALER, TEXT_MARSHALER }
    }

    /**
     * Writes this definition as a {@code wireType} value (no message framing, no type id): exactly
     * one field present, zero fields omitted, as Go writes it (PROTOCOL.md §3.4).
     */
    default void writeTo(GobWriter w) {
        if (this instanceof ArrayT a) {
            w.writeUint(1);
            w.writeUint(1);
            writeCommon(w, a.name(), a.id());
            int last = 0;
            if (a.elem() != 0) {
                w.writeUint(1 - last);
                w.writeInt(a.elem());
                last = 1;
            }
            if (a.length() != 0) {
                w.writeUint(2 - last);
                w.writeInt(a.length());
            }
            w.writeUint(0);
        } else if (this instanceof SliceT s) {
            w.writeUint(2);
            w.writeUint(1);
            writeCommon(w, s.name(), s.id());
            if (s.elem() != 0) {
                w.writeUint(1);
                w.writeInt(s.elem());
            }
            w.writeUint(0);
        } else if (this instanceof StructT s) {
            w.writeUint(3);
            w.writeUint(1);
            writeCommon(w, s.name(), s.id());
            if (!s.fields().isEmpty()) {
                w.writeUint(1);
                w.writeUint(s.fields().size());
                for (Field f : s.fields()) {
                    int last = -1;
                    if (!f.name().isEmpty()) {
                        w.writeUint(1);
                        w.writeString(f.name());
                        last = 0;
                    }
                    if (f.typeId() != 0) {
                        w.writeUint(1 - last);
                        w.writeInt(f.typeId());
                    }
                    w.writeUint(0);
                }
            }
            w.writeUint(0);
        } else if (this instanceof MapT m) {
            w.writeUint(4);
            w.writeUint(1);
            writeCommon(w, m.name(), m.id());
            int last = 0;
            if (m.key() != 0) {
                w.writeUint(1);
                w.writeInt(m.key());
                last = 1;
            }
            if (m.elem() != 0) {
                w.writeUint(2 - last);
                w.writeInt(m.elem());
            }
            w.writeUint(0);
        } else if (this instanceof MarshalerT m) {
            w.writeUint(5 + m.kind().ordinal());
            w.writeUint(1);
            writeCommon(w, m.name(), m.id());
            w.writeUint(0);
        }
        w.writeUint(0);
    }

    private static void writeCommon(GobWriter w, String name, int id) {
        int last = -1;
        if (!name.isEmpty()) {
            w.writeUint(1);
            w.writeString(name);
            last = 0;
        }
        if (id != 0) {
            w.writeUint(1 - last);
            w.writeInt(id);
        }
        w.writeUint(0);
    }
}
