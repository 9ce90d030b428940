package io.discoverd.protocol.jsonrpc;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.discoverd.protocol.Args;
import io.discoverd.protocol.PreparedUpdate;
import io.discoverd.protocol.ServiceUpdate;
import io.discoverd.protocol.rpc.ProtocolException;
import io.discoverd.protocol.rpc.RpcRequest;
import io.discoverd.protocol.rpc.ServerCodec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON-RPC server codec of one connection (PROTOCOL.md §4).
 *
 * <p>Input is a sequence of JSON values with any white space, or none, between them; an incremental
 * scanner finds each value's end and Jackson parses it. A value that is not an object, invalid JSON,
 * a non-string {@code method} or a value over {@code maxMessageBytes} is fatal
 * ({@link ProtocolException}, PROTOCOL.md §2.6). Members are matched case-insensitively, unknown ones
 * ignored, the last of duplicates wins (Go's behaviour). {@code params} problems are per-call
 * ({@link RpcRequest#argsError()}, §4.2, §4.6). The {@code id} is kept as its compact text, numbers
 * unchanged (§4.3), in {@link RpcRequest#id()}; {@link RpcRequest#seq()} is a per-connection counter
 * from 0. Invalid UTF-8 inside strings becomes U+FFFD.
 *
 * <p>Output: one compact object and {@code \n} per response,
 * {@code {"id":…,"result":…,"error":…}} (§4.3). Not thread-safe (see {@link ServerCodec}).
 */
public final class JsonServerCodec implements ServerCodec {

    /** Text of the per-call error for absent or {@code null} params (PROTOCOL.md §4.6). */
    public static final String MISSING_PARAMS = "unexpected end of JSON input";

    private static final JsonFactory FACTORY = new JsonFactory();
    private static final byte[] NO_BYTES = new byte[0];
    /** The input buffer's first capacity, in bytes: a request or two; it doubles as needed. */
    private static final int INITIAL_BUFFER_BYTES = 512;

    private final int maxMessageBytes;
    /** Received bytes; empty until the first feed, so an idle connection holds no buffer. */
    private byte[] buf = NO_BYTES;
    private int start;
    private int end;
    /** Scanner state for the value starting at {@code start}. */
    private int scan;
    private int depth;
    private boolean started;
    private boolean inString;
    private boolean escape;
    private long nextSeq;
    private boolean broken;

    /** @param maxMessageBytes the largest request accepted, in bytes */
    public JsonServerCodec(int maxMessageBytes) {
        if (maxMessageBytes < 1) {
            throw new IllegalArgumentException("maxMessageBytes must be positive");
        }
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    public void feed(byte[] data, int offset, int length) {
        if (end + length > buf.length) {
            if (start > 0) {
                System.arraycopy(buf, start, buf, 0, end - start);
                end -= start;
                scan -= start;
                start = 0;
            }
            if (end + length > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(Math.max(buf.length * 2, INITIAL_BUFFER_BYTES), end + length));
            }
        }
        System.arraycopy(data, offset, buf, end, length);
        end += length;
    }

    @Override
    public RpcRequest next() throws ProtocolException {
        if (broken) {
            throw new ProtocolException("JSON codec already failed");
        }
        try {
            int valueEnd = frame();
            if (valueEnd < 0) {
                return null;
            }
            int valueStart = start;
            start = valueEnd;
            scan = valueEnd;
            started = false;
            RpcRequest req = parse(valueStart, valueEnd);
            if (start == end) {
                start = 0;
                end = 0;
                scan = 0;
            }
            return req;
        } catch (ProtocolException e) {
            broken = true;
            throw e;
        } catch (RuntimeException e) {
            broken = true;
            throw new ProtocolException("JSON: internal decoding error: " + e, e);
        }
    }

    /** Finds the end (exclusive) of the object starting at {@code start}, or -1 when incomplete. */
    private int frame() throws ProtocolException {
        int i = scan;
        while (i < end) {
            byte b = buf[i];
            if (!started) {
                if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
                    i++;
                    start = i;
                    continue;
                }
                if (b != '{') {
                    throw new ProtocolException("JSON-RPC: request is not a JSON object");
                }
                started = true;
                depth = 0;
                inString = false;
                escape = false;
            }
            if (i - start >= maxMessageBytes) {
                throw new ProtocolException("JSON-RPC: request larger than " + maxMessageBytes + " bytes");
            }
            if (inString) {
                if (escape) {
                    escape = false;
                } else if (b == '\\') {
                    escape = true;
                } else if (b == '"') {
                    inString = false;
                }
            } else if (b == '"') {
                inString = true;
            } else if (b == '{' || b == '[') {
                depth++;
            } else if (b == '}' || b == ']') {
                depth--;
                if (depth == 0) {
                    scan = i + 1;
                    return i + 1;
                }
            }
            i++;
        }
        scan = i;
        return -1;
    }

    private RpcRequest parse(int from, int to) throws ProtocolException {
        byte[] data = buf;
        int off = from;
        int len = to - from;
        byte[] clean = Utf8.sanitize(buf, from, to);
        if (clean != null) {
            data = clean;
            off = 0;
            len = clean.length;
        }
        String method = "";
        String id = "null";
        Args args = null;
        String argsError = MISSING_PARAMS;
        try (JsonParser p = FACTORY.createParser(data, off, len)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new ProtocolException("JSON-RPC: request is not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if (name.equalsIgnoreCase("method")) {
                    if (t == JsonToken.VALUE_STRING) {
                        method = p.getText();
                    } else if (t != JsonToken.VALUE_NULL) {
                        throw new ProtocolException("json: cannot unmarshal " + kind(t)
                                + " into Go struct field serverRequest.method of type string");
                    }
                } else if (name.equalsIgnoreCase("params")) {
                    ParamsResult r = readParams(p, t);
                    args = r.args;
                    argsError = r.error;
                } else if (name.equalsIgnoreCase("id")) {
                    int idStart = off + (int) p.currentTokenLocation().getByteOffset();
                    p.skipChildren();
                    id = compactValue(data, idStart, off + len);
                } else {
                    p.skipChildren();
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT) {
                throw new ProtocolException("JSON-RPC: malformed request object");
            }
        } catch (IOException e) {
            throw new ProtocolException("JSON-RPC: invalid JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), e);
        }
        return new RpcRequest(method, nextSeq++, id, argsError == null ? args : null, argsError);
    }

    private record ParamsResult(Args args, String error) {
    }

    private static ParamsResult readParams(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return new ParamsResult(null, MISSING_PARAMS);
        }
        if (t != JsonToken.START_ARRAY) {
            p.skipChildren();
            return new ParamsResult(null, "json: cannot unmarshal " + kind(t) + " into Go value of type [1]interface {}");
        }
        Args args = Args.EMPTY;
        String error = null;
        JsonToken e = p.nextToken();
        if (e == JsonToken.START_OBJECT) {
            ArgsReader r = new ArgsReader();
            r.read(p);
            args = new Args(r.name, r.addr, r.attrs);
            error = r.error;
            e = p.nextToken();
        } else if (e == JsonToken.VALUE_NULL) {
            e = p.nextToken();
        } else if (e != JsonToken.END_ARRAY) {
            error = "json: cannot unmarshal " + kind(e) + " into Go value of type Args";
            p.skipChildren();
            e = p.nextToken();
        }
        while (e != JsonToken.END_ARRAY && e != null) { // elements after the first are ignored
            p.skipChildren();
            e = p.nextToken();
        }
        return error != null ? new ParamsResult(null, error) : new ParamsResult(args, null);
    }

    /** Reads an Args object like Go: keys case-insensitive, type errors recorded but decoding goes on. */
    private static final class ArgsReader {
        String name = "";
        String addr = "";
        Map<String, String> attrs;
        String error;

        void read(JsonParser p) throws IOException {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken t = p.nextToken();
                if (key.equalsIgnoreCase("Name")) {
                    name = string(p, t, "Name", name);
                } else if (key.equalsIgnoreCase("Addr")) {
                    addr = string(p, t, "Addr", addr);
                } else if (key.equalsIgnoreCase("Attrs")) {
                    if (t == JsonToken.VALUE_NULL) {
                        attrs = null;
                    } else if (t == JsonToken.START_OBJECT) {
                        if (attrs == null) {
                            attrs = new LinkedHashMap<>();
                        }
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String k = p.currentName();
                            JsonToken v = p.nextToken();
                            if (v == JsonToken.VALUE_STRING) {
                                attrs.put(k, p.getText());
                            } else if (v == JsonToken.VALUE_NULL) {
                                attrs.put(k, "");
                            } else {
                                fail("json: cannot unmarshal " + kind(v) + " into Go struct field Args.Attrs of type string");
                                p.skipChildren();
                            }
                        }
                    } else {
                        fail("json: cannot unmarshal " + kind(t) + " into Go struct field Args.Attrs of type map[string]string");
                        p.skipChildren();
                    }
                } else {
                    p.skipChildren();
                }
            }
        }

        private String string(JsonParser p, JsonToken t, String field, String current) throws IOException {
            if (t == JsonToken.VALUE_STRING) {
                return p.getText();
            }
            if (t != JsonToken.VALUE_NULL) {
                fail("json: cannot unmarshal " + kind(t) + " into Go struct field Args." + field + " of type string");
                p.skipChildren();
            }
            return current;
        }

        private void fail(String text) {
            if (error == null) {
                error = text;
            }
        }
    }

    private static String kind(JsonToken t) {
        if (t == null) {
            return "nothing";
        }
        return switch (t) {
            case START_OBJECT -> "object";
            case START_ARRAY -> "array";
            case VALUE_STRING -> "string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number";
            case VALUE_TRUE, VALUE_FALSE -> "bool";
            case VALUE_NULL -> "null";
            default -> t.name();
        };
    }

    /**
     * The JSON value starting at {@code from} re-emitted as Go re-emits a raw message: white space
     * outside strings removed, everything else kept (number text unchanged), with {@code < > &} and
     * U+2028/U+2029 inside strings escaped (PROTOCOL.md §4.3). The value is known to be valid JSON.
     */
    static String compactValue(byte[] data, int from, int limit) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16);
        int depth = 0;
        boolean str = false;
        boolean esc = false;
        for (int i = from; i < limit; i++) {
            int b = data[i] & 0xff;
            if (str) {
                if (esc) {
                    esc = false;
                    out.write(b);
                } else if (b == '\\') {
                    esc = true;
                    out.write(b);
                } else if (b == '"') {
                    str = false;
                    out.write(b);
                    if (depth == 0) {
                        break;
                    }
                } else if (b == '<' || b == '>' || b == '&') {
                    GoJson.writeAscii(out, b == '<' ? "\\u003c" : b == '>' ? "\\u003e" : "\\u0026");
                } else if (b == 0xe2 && i + 2 < limit && (data[i + 1] & 0xff) == 0x80
                        && ((data[i + 2] & 0xff) == 0xa8 || (data[i + 2] & 0xff) == 0xa9)) {
                    GoJson.writeAscii(out, (data[i + 2] & 0xff) == 0xa8 ? "\\u2028" : "\\u2029");
                    i += 2;
                } else {
                    out.write(b);
                }
                continue;
            }
            if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
                if (depth == 0 && out.size() > 0) {
                    break; // end of a scalar
                }
                continue;
            }
            if (depth == 0 && out.size() > 0 && (b == ',' || b == '}' || b == ']')) {
                break; // end of a scalar
            }
            out.write(b);
            if (b == '"') {
                str = true;
            } else if (b == '{' || b == '[') {
                depth++;
            } else if (b == '}' || b == ']') {
                depth--;
                if (depth == 0) {
                    break;
                }
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The ServiceUpdate body: the {@code result} value, the same on every connection. Stateless. */
    private enum UpdateBody implements PreparedUpdate.BodyEncoding {
        INSTANCE;

        @Override
        public byte[] encode(ServiceUpdate update) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(128);
            GoJson.writeUpdate(out, update);
            return out.toByteArray();
        }
    }

    private static final byte[] ID_PREFIX = "{\"id\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] RESULT_PREFIX = ",\"result\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NO_ERROR_END = ",\"error\":null}\n".getBytes(StandardCharsets.US_ASCII);

    private static byte[] response(RpcRequest call, String resultJsonOrNull, String error) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        GoJson.writeAscii(out, "{\"id\":");
        GoJson.writeRaw(out, call.id() == null ? "null" : call.id());
        GoJson.writeAscii(out, ",\"result\":");
        if (resultJsonOrNull != null) {
            GoJson.writeString(out, resultJsonOrNull);
        } else {
            GoJson.writeAscii(out, "{}");
        }
        GoJson.writeAscii(out, ",\"error\":");
        if (error == null) {
            GoJson.writeAscii(out, "null");
        } else {
            GoJson.writeString(out, error);
        }
        GoJson.writeAscii(out, "}\n");
        return out.toByteArray();
    }

    @Override
    public byte[] encodeString(RpcRequest call, String reply) {
        return response(call, reply, null);
    }

    @Override
    public byte[] encodeEmpty(RpcRequest call) {
        return response(call, null, null);
    }

    /**
     * {@code {"id":…,"result":<shared body>,"error":null}\n}, assembled in one array of the exact
     * size: the body is encoded once per prepared update, for every connection.
     */
    @Override
    public byte[] encodeUpdate(RpcRequest call, PreparedUpdate update) {
        byte[] body = update.body(UpdateBody.INSTANCE);
        String id = call.id() == null ? "null" : call.id();
        // The id is the compact text of a JSON value: nearly always ASCII, copied without a temporary array.
        boolean ascii = true;
        for (int i = 0; i < id.length() && ascii; i++) {
            ascii = id.charAt(i) < 0x80;
        }
        byte[] idUtf8 = ascii ? null : id.getBytes(StandardCharsets.UTF_8);
        int idLength = ascii ? id.length() : idUtf8.length;
        byte[] frame = new byte[ID_PREFIX.length + idLength + RESULT_PREFIX.length + body.length + NO_ERROR_END.length];
        int at = put(frame, 0, ID_PREFIX);
        if (ascii) {
            for (int i = 0; i < idLength; i++) {
                frame[at++] = (byte) id.charAt(i);
            }
        } else {
            at = put(frame, at, idUtf8);
        }
        at = put(frame, at, RESULT_PREFIX);
        at = put(frame, at, body);
        put(frame, at, NO_ERROR_END);
        return frame;
    }

    private static int put(byte[] to, int at, byte[] bytes) {
        System.arraycopy(bytes, 0, to, at, bytes.length);
        return at + bytes.length;
    }

    @Override
    public byte[] encodeError(RpcRequest call, String error) {
        return response(call, null, error);
    }
}
