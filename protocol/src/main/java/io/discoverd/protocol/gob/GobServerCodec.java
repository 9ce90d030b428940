package io.discoverd.protocol.gob;

import io.discoverd.protocol.Args;
import io.discoverd.protocol.PreparedUpdate;
import io.discoverd.protocol.rpc.ProtocolException;
import io.discoverd.protocol.rpc.RpcRequest;
import io.discoverd.protocol.rpc.ServerCodec;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The gob server codec of one connection (PROTOCOL.md §2, §3): decodes {@code Request} headers and
 * {@code Args} bodies from the client's stream and encodes responses with {@link GobServerEncoder}.
 *
 * <p>Decoding follows Go's rules (PROTOCOL.md §3.7): fields matched by name, kinds checked,
 * unknown fields of any type skipped, definitions accepted in any order and resolved when a value
 * is decoded. A header that cannot be decoded, broken framing, a broken or duplicate definition, a
 * message over {@code maxMessageBytes} or more than {@value #MAX_DEFINITIONS} definitions are fatal
 * ({@link ProtocolException}). A body that does not decode as {@code Args} becomes
 * {@link RpcRequest#argsError()} and the codec stays usable; the body message is always consumed.
 *
 * <p>Not thread-safe (see {@link ServerCodec}).
 */
public final class GobServerCodec implements ServerCodec {

    /** Cap on type definitions per connection (PROTOCOL.md §3.9). */
    public static final int MAX_DEFINITIONS = 1024;

    private static final int F_SKIP = 0, F_SERVICE_METHOD = 1, F_SEQ = 2, F_NAME = 1, F_ADDR = 2, F_ATTRS = 3;

    private final GobInput input;
    private final GobTypeRegistry types = new GobTypeRegistry(MAX_DEFINITIONS);
    private final GobServerEncoder encoder;
    /** Per remote struct id: what each of its fields maps to locally, or an error text. */
    private final Map<Integer, Object> requestPlans = new HashMap<>();
    private final Map<Integer, Object> argsPlans = new HashMap<>();

    private boolean haveHeader;
    private String serviceMethod;
    private long seq;
    private boolean broken;

    /** @param maxMessageBytes the largest gob message accepted, in bytes (e.g. 1 MiB) */
    public GobServerCodec(int maxMessageBytes) {
        this(maxMessageBytes, new GobServerEncoder());
    }

    GobServerCodec(int maxMessageBytes, GobServerEncoder encoder) {
        this.input = new GobInput(maxMessageBytes);
        this.encoder = encoder;
    }

    @Override
    public void feed(byte[] data, int offset, int length) {
        input.feed(data, offset, length);
    }

    @Override
    public RpcRequest next() throws ProtocolException {
        if (broken) {
            throw new ProtocolException("gob codec already failed");
        }
        try {
            return decodeNext();
        } catch (ProtocolException e) {
            broken = true;
            throw e;
        } catch (RuntimeException e) {
            // A decoding bug must cost only this connection, never the daemon.
            broken = true;
            throw new ProtocolException("gob: internal decoding error: " + e, e);
        }
    }

    private RpcRequest decodeNext() throws ProtocolException {
        while (input.nextMessage()) {
            GobReader r = input.reader();
            int id = r.readSmallInt();
            if (id < 0) {
                types.readDefinition(-id, r);
                input.consume();
                continue;
            }
            if (!haveHeader) {
                decodeHeader(id, r);
                input.consume();
                haveHeader = true;
                continue;
            }
            Args args = null;
            String argsError = null;
            try {
                args = decodeArgs(id, r);
            } catch (GobException e) {
                argsError = e.getMessage();
            }
            input.consume();
            haveHeader = false;
            return new RpcRequest(serviceMethod, seq, null, args, argsError);
        }
        return null;
    }

    private void decodeHeader(int id, GobReader r) throws GobException {
        Object plan = requestPlans.get(id);
        if (plan == null) {
            plan = compile(id, "Request", new String[] {"ServiceMethod", "Seq"}, true);
            requestPlans.put(id, plan);
        }
        if (plan instanceof String err) {
            throw new GobException(err);
        }
        int[] actions = (int[]) plan;
        WireType.StructT s = (WireType.StructT) types.get(id);
        serviceMethod = "";
        seq = 0;
        int field = -1;
        while (r.remaining() > 0) {
            long delta = r.readUint();
            if (delta == 0) {
                break;
            }
            field = GobTypeRegistry.advance(field, delta, actions.length);
            switch (actions[field]) {
                case F_SERVICE_METHOD -> serviceMethod = r.readString();
                case F_SEQ -> seq = r.readUint();
                default -> types.skipValue(s.fields().get(field).typeId(), r, 1);
            }
        }
    }

    private Args decodeArgs(int id, GobReader r) throws GobException {
        if (id == 0) {
            throw new GobException("gob: unknown type id or corrupted data");
        }
        Object plan = argsPlans.get(id);
        if (plan == null) {
            plan = compile(id, "Args", new String[] {"Name", "Addr", "Attrs"}, false);
            argsPlans.put(id, plan);
        }
        if (plan instanceof String err) {
            throw new GobException(err);
        }
        int[] actions = (int[]) plan;
        WireType.StructT s = (WireType.StructT) types.get(id);
        String name = "";
        String addr = "";
        Map<String, String> attrs = null;
        int field = -1;
        while (r.remaining() > 0) {
            long delta = r.readUint();
            if (delta == 0) {
                break;
            }
            field = GobTypeRegistry.advance(field, delta, actions.length);
            switch (actions[field]) {
                case F_NAME -> name = r.readString();
                case F_ADDR -> addr = r.readString();
                case F_ATTRS -> {
                    int n = r.readCount();
                    Map<String, String> m = new LinkedHashMap<>();
                    for (int i = 0; i < n; i++) {
                        String k = r.readString();
                        m.put(k, r.readString());
                    }
                    attrs = m;
                }
                default -> types.skipValue(s.fields().get(field).typeId(), r, 1);
            }
        }
        return new Args(name, addr, attrs);
    }

    /**
     * Builds the field mapping from a received struct type to a local one, with Go's checks
     * (PROTOCOL.md §3.7). Returns an {@code int[]} of actions per remote field (index + 1 of the
     * matched local field, or 0 to skip), or the error text. Request: ServiceMethod string, Seq uint.
     * Args: Name string, Addr string, Attrs map[string]string.
     */
    private Object compile(int id, String localName, String[] localFields, boolean request) throws GobException {
        WireType w = types.get(id);
        if (w == null && !GobTypeRegistry.isBasic(id)) {
            // Not cached: the id may still be defined later.
            throw new GobException("gob: bad data: undefined type id " + id);
        }
        if (!(w instanceof WireType.StructT s)) {
            return "gob: type mismatch in decoder: want struct type " + localName + "; got non-struct";
        }
        types.checkComplete(id); // throws, uncached, while a referenced id is undefined
        int[] actions = new int[s.fields().size()];
        int matched = 0;
        for (int i = 0; i < actions.length; i++) {
            WireType.Field f = s.fields().get(i);
            for (int j = 0; j < localFields.length; j++) {
                if (localFields[j].equals(f.name())) {
                    String localType = compatible(request, j, f.typeId());
                    if (localType != null) {
                        return "gob: wrong type (" + localType + ") for received field " + s.name() + "." + f.name();
                    }
                    actions[i] = j + 1;
                    matched++;
                }
            }
        }
        if (matched == 0 && actions.length > 0) {
            return "gob: type mismatch: no fields matched compiling decoder for " + localName;
        }
        return actions;
    }

    /** Null when the remote type id fits local field {@code j}; else the local type's Go name. */
    private String compatible(boolean request, int j, int remoteId) {
        if (request) {
            return j == 0 ? (remoteId == GobTypeRegistry.STRING ? null : "string")
                    : (remoteId == GobTypeRegistry.UINT ? null : "uint64");
        }
        if (j < 2) {
            return remoteId == GobTypeRegistry.STRING ? null : "string";
        }
        return types.get(remoteId) instanceof WireType.MapT m && m.key() == GobTypeRegistry.STRING
                && m.elem() == GobTypeRegistry.STRING ? null : "map[string]string";
    }

    @Override
    public byte[] encodeString(RpcRequest call, String reply) {
        return encoder.encodeString(call.serviceMethod(), call.seq(), reply);
    }

    @Override
    public byte[] encodeEmpty(RpcRequest call) {
        return encoder.encodeEmpty(call.serviceMethod(), call.seq(), "");
    }

    @Override
    public byte[] encodeUpdate(RpcRequest call, PreparedUpdate update) {
        return encoder.encodeUpdate(call.serviceMethod(), call.seq(), update);
    }

    @Override
    public byte[] encodeError(RpcRequest call, String error) {
        return encoder.encodeEmpty(call.serviceMethod(), call.seq(), error);
    }
}
