package io.discoverd.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.discoverd.protocol.Args;
import io.discoverd.protocol.ServiceUpdate;
import io.discoverd.protocol.gob.GobClientDecoder;
import io.discoverd.protocol.gob.GobClientEncoder;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A minimal RPC client over either codec, for driving the daemon from tests. JSON requests use the
 * call number as their {@code id}, so a response's {@link Reply#key()} is that number in both codecs.
 */
public final class RpcClient implements AutoCloseable {

    /** One response: its call key, error ({@code ""} on success) and body. */
    public record Reply(long key, String error, String string, ServiceUpdate update) {
        public boolean isSentinel() {
            return error.isEmpty() && update != null && update.isSentinel();
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    public final WireClient wire;
    public final boolean json;
    private final GobClientEncoder gobOut = new GobClientEncoder();
    private final GobClientDecoder gobIn = new GobClientDecoder(1 << 24);

    private RpcClient(WireClient wire, boolean json) {
        this.wire = wire;
        this.json = json;
    }

    public static RpcClient connect(int port, boolean json) throws IOException {
        return new RpcClient(WireClient.rpc(port, json), json);
    }

    public void send(String method, long seq, Args args) throws IOException {
        if (json) {
            ObjectNode req = JSON.createObjectNode();
            req.put("method", method);
            ArrayNode params = req.putArray("params");
            ObjectNode a = params.addObject();
            a.put("Name", args.name());
            a.put("Addr", args.addr());
            if (args.attrs() == null) {
                a.putNull("Attrs");
            } else {
                ObjectNode attrs = a.putObject("Attrs");
                args.attrs().forEach(attrs::put);
            }
            req.put("id", seq);
            wire.write(req.toString() + "\n");
        } else {
            wire.write(gobOut.encodeRequest(method, seq, args));
        }
    }

    public void closeStream(long seq) throws IOException {
        if (json) {
            wire.write("{\"method\":\"CloseStream\",\"id\":" + seq + "}\n");
        } else {
            wire.write(gobOut.encodeCloseStream(seq));
        }
    }

    /** Reads the next response (blocking up to the socket timeout). */
    public Reply next() throws Exception {
        if (json) {
            String line = wire.readLine();
            if (line == null) {
                throw new IOException("connection closed");
            }
            JsonNode n = JSON.readTree(line);
            String error = n.get("error").isNull() ? "" : n.get("error").asText();
            JsonNode result = n.get("result");
            ServiceUpdate update = null;
            String string = null;
            if (result.isTextual()) {
                string = result.asText();
            } else if (result.has("Addr")) {
                Map<String, String> attrs = null;
                if (result.get("Attrs").isObject()) {
                    attrs = new LinkedHashMap<>();
                    for (var it = result.get("Attrs").fields(); it.hasNext(); ) {
                        var e = it.next();
                        attrs.put(e.getKey(), e.getValue().asText());
                    }
                }
                update = new ServiceUpdate(result.get("Name").asText(), result.get("Addr").asText(),
                        result.get("Online").asBoolean(), attrs, result.get("Created").asLong());
            }
            return new Reply(n.get("id").asLong(), error, string, update);
        }
        byte[] buf = new byte[8192];
        while (true) {
            GobClientDecoder.Response r = gobIn.next();
            if (r != null) {
                ServiceUpdate update = null;
                String string = r.body() instanceof String s ? s : null;
                if (r.error().isEmpty() && string == null && r.serviceMethod().equals("Agent.Subscribe")
                        || r.serviceMethod().equals("Agent.Leader") && r.error().isEmpty()) {
                    update = r.update();
                }
                return new Reply(r.seq(), r.error(), string, update);
            }
            int n = wire.read(buf);
            if (n < 0) {
                throw new IOException("connection closed");
            }
            gobIn.feed(buf, 0, n);
        }
    }

    /** Sends a call and reads until its reply (no other traffic expected on this connection). */
    public Reply call(String method, long seq, Args args) throws Exception {
        send(method, seq, args);
        return next();
    }

    @Override
    public void close() throws IOException {
        wire.close();
    }
}
