package io.discoverd.bench.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.discoverd.protocol.Args;
import io.discoverd.protocol.ServiceUpdate;
import io.discoverd.protocol.http.Handshake;
import io.discoverd.protocol.rpc.RpcRequest;
import io.discoverd.protocol.rpc.ServerCodec;
import io.discoverd.protocol.rpc.ServerCodecs;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The server's JSON-RPC codec (PROTOCOL.md §4): decoding an {@code Agent.Register} request line fed
 * as bytes, and encoding a {@code ServiceUpdate} stream item. Average time per message, in ns (a
 * throughput in messages/s is {@code 1e9 / score} on one thread). The protocol module has no JSON
 * client, so unlike {@link GobCodecBenchmarks} there is no client side here.
 *
 * <p>JSON has no per-connection state to warm up (no type definitions), so every call is the
 * steady state. {@link #setUp()} checks that the decoded request equals what was sent and that the
 * encoded line parses back to the update. A JMH state, one per benchmark thread; not for use
 * outside JMH.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class JsonCodecBenchmarks {

    private static final int MAX_MESSAGE_BYTES = 1 << 20;

    /** The call a stream item answers; its id is echoed in every item. */
    private final RpcRequest subscribe = new RpcRequest("Agent.Subscribe", 0, "3", new Args("web", "", null), null);

    private final byte[] registerLine = Samples.REGISTER_JSON.getBytes(StandardCharsets.UTF_8);
    private ServerCodec serverDecoder;
    private ServerCodec serverEncoder;

    /** Creates the codecs and checks that both directions round-trip. */
    @Setup
    public void setUp() throws Exception {
        serverDecoder = ServerCodecs.create(Handshake.Codec.JSON, MAX_MESSAGE_BYTES);
        Samples.expectRegister(decodeRegister(), String.valueOf(Samples.REGISTER_SEQ));
        serverEncoder = ServerCodecs.create(Handshake.Codec.JSON, MAX_MESSAGE_BYTES);
        JsonNode line = new ObjectMapper().readTree(serverEncoder.encodeUpdate(subscribe, Samples.UPDATE));
        Samples.expect("3", line.path("id").toString(), "id of the encoded stream item");
        Samples.expect(true, line.path("error").isNull(), "error of the encoded stream item " + line);
        Samples.expect(Samples.UPDATE, toUpdate(line.path("result")), "the ServiceUpdate of the encoded stream item");
    }

    /** The server decodes a Register request line fed as the bytes the client sent. */
    @Benchmark
    public void serverDecodeRegister(Blackhole bh) throws Exception {
        bh.consume(decodeRegister());
    }

    /** The server encodes one subscriber's stream item (one line). */
    @Benchmark
    public void serverEncodeUpdate(Blackhole bh) {
        // A new ServiceUpdate is wrapped in a new PreparedUpdate: the body is encoded on every call.
        bh.consume(serverEncoder.encodeUpdate(subscribe, Samples.UPDATE));
    }

    /**
     * The server encodes a stream item for one more subscriber of a change whose body is already
     * encoded (the fan-out path: only the per-stream header is encoded).
     */
    @Benchmark
    public void serverEncodeSharedUpdate(Blackhole bh) {
        bh.consume(serverEncoder.encodeUpdate(subscribe, Samples.PREPARED));
    }

    private RpcRequest decodeRegister() throws Exception {
        serverDecoder.feed(registerLine, 0, registerLine.length);
        return serverDecoder.next();
    }

    /** A ServiceUpdate object as PROTOCOL.md §4.3 lays it out; Attrs {@code null} stays nil. */
    private static ServiceUpdate toUpdate(JsonNode r) {
        Map<String, String> attrs = null;
        if (r.path("Attrs").isObject()) {
            attrs = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) r.path("Attrs")::fields) {
                attrs.put(e.getKey(), e.getValue().asText());
            }
        }
        return new ServiceUpdate(r.path("Name").asText(), r.path("Addr").asText(), r.path("Online").asBoolean(),
                attrs, r.path("Created").asLong());
    }
}
