package io.discoverd.it.http;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small gob client for end-to-end tests, independent of the daemon's codec: it writes requests
 * exactly as the Go client does (its type definitions are the bytes of {@code gob-register.txt})
 * and decodes whatever the server sends by the server's own definitions (PROTOCOL.md §3).
 *
 * <p>The Go test client of the gob package judges gob conformance in depth; this one exists so the
 * HTTP, robustness and idle tests can prove a gob connection works. Not thread-safe: one writer and
 * one reader per connection.
 */
public final class GobWire {

    private static final HexFormat HEX = HexFormat.of();
    /** def 65: struct "Request" {ServiceMethod string, Seq uint} (the Go client's bytes). */
    private static final byte[] DEF_REQUEST = HEX.parseHex(
            "2fff81030101075265717565737401ff82000102010d536572766963654d6574686f64010c0001035365710106000000");
    /** def 66: struct "Args" {Name, Addr string, Attrs 67}; def 67: map[string]string. */
    private static final byte[] DEF_ARGS_AND_MAP = HEX.parseHex(
            "2fff83030101044172677301ff8400010301044e616d65010c00010441646472010c000105417474727301ff86000000"
                    + "21ff85040101116d61705b737472696e675d737472696e6701ff8600010c010c0000");
    /** def 69: the empty struct (CloseStream body). */
    private static final byte[] DEF_EMPTY = HEX.parseHex("0aff89030102ff8a000000");
    private static final int REQUEST_ID = 65;
    private static final int ARGS_ID = 66;
    private static final int EMPTY_ID = 69;

    private GobWire() {
    }

    /** Writes requests on one connection, defining each client type once, before its first use. */
    public static final class Writer {
        private boolean requestDefined;
        private boolean argsDefined;
        private boolean emptyDefined;

        /**
         * The bytes of one request: header {@code {method, seq}} and an {@code Args} body.
         *
         * @param attrs null for nil Attrs (field omitted)
         */
        public byte[] request(String method, long seq, String name, String addr, Map<String, String> attrs) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            header(out, method, seq);
            if (!argsDefined) {
                out.writeBytes(DEF_ARGS_AND_MAP);
                argsDefined = true;
            }
            out.writeBytes(message(args(name, addr, attrs)));
            return out.toByteArray();
        }

        /** The bytes of a CloseStream request for stream {@code seq} with an empty-struct body. */
        public byte[] closeStream(long seq) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            header(out, "CloseStream", seq);
            if (!emptyDefined) {
                out.writeBytes(DEF_EMPTY);
                emptyDefined = true;
            }
            ByteArrayOutputStream v = new ByteArrayOutputStream();
            writeInt(v, EMPTY_ID);
            v.write(0);
            out.writeBytes(message(v.toByteArray()));
            return out.toByteArray();
        }

        private void header(ByteArrayOutputStream out, String method, long seq) {
            if (!requestDefined) {
                out.writeBytes(DEF_REQUEST);
                requestDefined = true;
            }
            ByteArrayOutputStream v = new ByteArrayOutputStream();
            writeInt(v, REQUEST_ID);
            int delta = 1;
            if (!method.isEmpty()) {
                writeUint(v, delta);
                writeString(v, method);
            } else {
                delta++;
            }
            if (seq != 0) {
                writeUint(v, delta);
                writeUint(v, seq);
            }
            v.write(0);
            out.writeBytes(message(v.toByteArray()));
        }
    }

    /** The payload of an {@code Args} value message (without its length prefix). */
    static byte[] args(String name, String addr, Map<String, String> attrs) {
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        writeInt(v, ARGS_ID);
        int delta = 1;
        for (String s : new String[] {name, addr}) {
            if (s.isEmpty()) {
                delta++;
                continue;
            }
            writeUint(v, delta);
            writeString(v, s);
            delta = 1;
        }
        if (attrs != null) {
            writeUint(v, delta);
            writeUint(v, attrs.size());
            attrs.forEach((k, val) -> {
                writeString(v, k);
                writeString(v, val);
            });
        }
        v.write(0);
        return v.toByteArray();
    }

    /** A whole message: {@code uint(len(payload))} then the payload. */
    public static byte[] message(byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeUint(out, payload.length);
        out.writeBytes(payload);
        return out.toByteArray();
    }

    /** gob uint encoding (PROTOCOL.md §3.2); {@code value} is unsigned. */
    public static void writeUint(ByteArrayOutputStream out, long value) {
        if (value >= 0 && value < 128) {
            out.write((int) value);
            return;
        }
        int bytes = (Long.SIZE - Long.numberOfLeadingZeros(value) + 7) / 8;
        out.write(256 - bytes);
        for (int i = bytes - 1; i >= 0; i--) {
            out.write((int) (value >>> (8 * i)));
        }
    }

    static void writeInt(ByteArrayOutputStream out, long value) {
        writeUint(out, value >= 0 ? value << 1 : ((~value) << 1) | 1);
    }

    static void writeString(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        writeUint(out, b.length);
        out.writeBytes(b);
    }

    /**
     * One response as decoded: header fields and the body value.
     *
     * @param body a {@code String} for a Register reply, a {@code Map<String,Object>} for structs
     *             (field name to value; uints as {@code Long}, maps as {@code Map}), never null
     */
    public record Response(String serviceMethod, long seq, String error, Object body) {
    }

    /** Decodes the server's stream with the server's own definitions. */
    public static final class Reader {
        private final InputStream in;
        private final Map<Long, Def> types = new HashMap<>();

        public Reader(InputStream in) {
            this.in = in;
        }

        /** Reads one response: the header value and the body value, with definitions between. */
        public Response readResponse() throws IOException {
            Object header = readValue();
            if (!(header instanceof Map<?, ?> h)) {
                throw new IOException("response header is not a struct: " + header);
            }
            Object body = readValue();
            Object method = h.get("ServiceMethod");
            Object seq = h.get("Seq");
            Object error = h.get("Error");
            return new Response(method == null ? "" : (String) method, seq == null ? 0L : (Long) seq,
                    error == null ? "" : (String) error, body);
        }

        /** Reads messages until a value message, recording definitions; returns the decoded value. */
        public Object readValue() throws IOException {
            while (true) {
                Buf b = new Buf(readMessage());
                long id = b.readInt();
                if (id < 0) {
                    if (types.put(-id, b.readWireType()) != null) {
                        throw new IOException("duplicate definition of type " + -id);
                    }
                    continue;
                }
                Def def = types.get(id);
                if (def == null || def.kind != Kind.STRUCT) {
                    if (b.readUint() != 0) {
                        throw new IOException("non-struct top-level value without the singleton marker");
                    }
                }
                return b.value(id, types);
            }
        }

        private byte[] readMessage() throws IOException {
            int first = in.read();
            if (first < 0) {
                throw new EOFException("connection closed");
            }
            long n = first;
            if (first >= 128) {
                int count = 256 - first;
                if (count > 8) {
                    throw new IOException("bad length prefix " + first);
                }
                n = 0;
                for (int i = 0; i < count; i++) {
                    int x = in.read();
                    if (x < 0) {
                        throw new EOFException("connection closed inside a length");
                    }
                    n = (n << 8) | x;
                }
            }
            if (n < 0 || n > 16 << 20) {
                throw new IOException("message length out of range: " + Long.toUnsignedString(n));
            }
            byte[] payload = in.readNBytes((int) n);
            if (payload.length != n) {
                throw new EOFException("connection closed inside a message");
            }
            return payload;
        }
    }

    private enum Kind { STRUCT, MAP, SLICE, ARRAY, OPAQUE }

    private record Def(Kind kind, List<String> fieldNames, List<Long> fieldIds, long key, long elem, long len) {
    }

    private static final class Buf {
        private final byte[] b;
        private int pos;

        Buf(byte[] b) {
            this.b = b;
        }

        int next() throws IOException {
            if (pos >= b.length) {
                throw new IOException("value runs past its message");
            }
            return b[pos++] & 0xff;
        }

        long readUint() throws IOException {
            int first = next();
            if (first < 128) {
                return first;
            }
            int count = 256 - first;
            if (count > 8) {
                throw new IOException("bad uint prefix " + first);
            }
            long v = 0;
            for (int i = 0; i < count; i++) {
                v = (v << 8) | next();
            }
            return v;
        }

        long readInt() throws IOException {
            long u = readUint();
            return (u & 1) == 0 ? u >>> 1 : ~(u >>> 1);
        }

        byte[] readBytes() throws IOException {
            long n = readUint();
            if (n < 0 || n > b.length - pos) {
                throw new IOException("count " + n + " exceeds the message");
            }
            byte[] out = new byte[(int) n];
            System.arraycopy(b, pos, out, 0, (int) n);
            pos += (int) n;
            return out;
        }

        String readString() throws IOException {
            return new String(readBytes(), StandardCharsets.UTF_8);
        }

        /** Calls {@code field} for each present field number of a struct, until its 00. */
        void struct(FieldHandler field) throws IOException {
            int num = -1;
            for (long delta = readUint(); delta != 0; delta = readUint()) {
                num += (int) delta;
                field.accept(num);
            }
        }

        long[] commonTypeId = new long[1];

        void commonType() throws IOException {
            struct(f -> {
                if (f == 0) {
                    readString();
                } else if (f == 1) {
                    commonTypeId[0] = readInt();
                } else {
                    throw new IOException("CommonType field " + f);
                }
            });
        }

        Def readWireType() throws IOException {
            Def[] result = new Def[1];
            struct(kindField -> {
                long[] x = new long[3];
                List<String> names = new ArrayList<>();
                List<Long> ids = new ArrayList<>();
                switch (kindField) {
                    case 0 -> {
                        struct(f -> {
                            switch (f) {
                                case 0 -> commonType();
                                case 1 -> x[1] = readInt();
                                case 2 -> x[2] = readInt();
                                default -> throw new IOException("arrayType field " + f);
                            }
                        });
                        result[0] = new Def(Kind.ARRAY, names, ids, 0, x[1], x[2]);
                    }
                    case 1 -> {
                        struct(f -> {
                            switch (f) {
                                case 0 -> commonType();
                                case 1 -> x[1] = readInt();
                                default -> throw new IOException("sliceType field " + f);
                            }
                        });
                        result[0] = new Def(Kind.SLICE, names, ids, 0, x[1], 0);
                    }
                    case 2 -> {
                        struct(f -> {
                            switch (f) {
                                case 0 -> commonType();
                                case 1 -> {
                                    long n = readUint();
                                    for (long i = 0; i < n; i++) {
                                        String[] name = {""};
                                        long[] id = {0};
                                        struct(g -> {
                                            if (g == 0) {
                                                name[0] = readString();
                                            } else if (g == 1) {
                                                id[0] = readInt();
                                            } else {
                                                throw new IOException("fieldType field " + g);
                                            }
                                        });
                                        names.add(name[0]);
                                        ids.add(id[0]);
                                    }
                                }
                                default -> throw new IOException("structType field " + f);
                            }
                        });
                        result[0] = new Def(Kind.STRUCT, names, ids, 0, 0, 0);
                    }
                    case 3 -> {
                        struct(f -> {
                            switch (f) {
                                case 0 -> commonType();
                                case 1 -> x[0] = readInt();
                                case 2 -> x[1] = readInt();
                                default -> throw new IOException("mapType field " + f);
                            }
                        });
                        result[0] = new Def(Kind.MAP, names, ids, x[0], x[1], 0);
                    }
                    case 4, 5, 6 -> {
                        struct(f -> commonType());
                        result[0] = new Def(Kind.OPAQUE, names, ids, 0, 0, 0);
                    }
                    default -> throw new IOException("wireType field " + kindField);
                }
            });
            if (result[0] == null) {
                throw new IOException("empty wireType");
            }
            if (pos != b.length) {
                throw new IOException("extra data after a definition");
            }
            return result[0];
        }

        Object value(long id, Map<Long, Def> types) throws IOException {
            switch ((int) Math.min(id, Integer.MAX_VALUE)) {
                case 1: return readUint() != 0;
                case 2: return readInt();
                case 3: return readUint();
                case 4: return Double.longBitsToDouble(Long.reverseBytes(readUint()));
                case 5: return readBytes();
                case 6: return readString();
                default: break;
            }
            Def def = types.get(id);
            if (def == null) {
                throw new IOException("undefined type id " + id);
            }
            switch (def.kind) {
                case STRUCT -> {
                    Map<String, Object> fields = new LinkedHashMap<>();
                    struct(f -> {
                        if (f >= def.fieldNames.size()) {
                            throw new IOException("field " + f + " beyond the definition");
                        }
                        fields.put(def.fieldNames.get(f), value(def.fieldIds.get(f), types));
                    });
                    return fields;
                }
                case MAP -> {
                    Map<Object, Object> map = new LinkedHashMap<>();
                    long n = readUint();
                    for (long i = 0; i < n; i++) {
                        Object k = value(def.key, types);
                        map.put(k, value(def.elem, types));
                    }
                    return map;
                }
                case SLICE, ARRAY -> {
                    List<Object> list = new ArrayList<>();
                    long n = readUint();
                    for (long i = 0; i < n; i++) {
                        list.add(value(def.elem, types));
                    }
                    return list;
                }
                default -> {
                    return readBytes();
                }
            }
        }
    }

    @FunctionalInterface
    private interface FieldHandler {
        void accept(int field) throws IOException;
    }
}
