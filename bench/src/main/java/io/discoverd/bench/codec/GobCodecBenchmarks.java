package io.discoverd.bench.codec;

import io.discoverd.protocol.Args;
import io.discoverd.protocol.ServiceUpdate;
import io.discoverd.protocol.gob.GobClientDecoder;
import io.discoverd.protocol.gob.GobClientEncoder;
import io.discoverd.protocol.http.Handshake;
import io.discoverd.protocol.rpc.RpcRequest;
import io.discoverd.protocol.rpc.ServerCodec;
import io.discoverd.protocol.rpc.ServerCodecs;
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
 * The gob codec (PROTOCOL.md §3) on one connection, both sides of the two messages that dominate
 * traffic: the client encodes an {@code Agent.Register} request and the server decodes it; the server
 * encodes a {@code ServiceUpdate} stream item and the client decodes it. Average time per message, in
 * ns (a throughput in messages/s is {@code 1e9 / score} on one thread).
 *
 * <p>Steady state only: a gob stream sends each type definition once, on the first frame that needs
 * it, and every later frame is a header and a body. {@link #setUp()} sends that first frame through
 * each codec (and checks that it round-trips), so every measured operation is a later frame, the
 * case of all but one message of a connection. Decoding includes {@code feed}, the copy of the
 * received bytes into the codec's buffer, as a connection does it.
 *
 * <p>A JMH state, one per benchmark thread; not for use outside JMH.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GobCodecBenchmarks {

    private static final int MAX_MESSAGE_BYTES = 1 << 20;

    /** The call a stream item answers (its header echoes the method and Seq). */
    private final RpcRequest subscribe = new RpcRequest("Agent.Subscribe", Samples.SUBSCRIBE_SEQ, null,
            new Args("web", "", null), null);

    private GobClientEncoder clientEncoder;
    private ServerCodec serverDecoder;
    private byte[] registerFrame;
    private ServerCodec serverEncoder;
    private GobClientDecoder clientDecoder;
    private byte[] updateFrame;

    /** Puts every codec past its first frame, and checks that a later frame round-trips. */
    @Setup
    public void setUp() throws Exception {
        clientEncoder = new GobClientEncoder();
        byte[] first = clientEncoder.encodeRequest("Agent.Register", Samples.REGISTER_SEQ, Samples.REGISTER);
        registerFrame = clientEncoder.encodeRequest("Agent.Register", Samples.REGISTER_SEQ, Samples.REGISTER);
        Samples.expect(true, registerFrame.length < first.length, "a later Register frame carries no definitions");
        serverDecoder = ServerCodecs.create(Handshake.Codec.GOB, MAX_MESSAGE_BYTES);
        serverDecoder.feed(first, 0, first.length);
        Samples.expectRegister(serverDecoder.next(), null);
        Samples.expectRegister(decodeRegister(), null);

        serverEncoder = ServerCodecs.create(Handshake.Codec.GOB, MAX_MESSAGE_BYTES);
        byte[] firstUpdate = serverEncoder.encodeUpdate(subscribe, Samples.UPDATE);
        updateFrame = serverEncoder.encodeUpdate(subscribe, Samples.UPDATE);
        Samples.expect(true, updateFrame.length < firstUpdate.length, "a later ServiceUpdate frame carries no definitions");
        clientDecoder = new GobClientDecoder(MAX_MESSAGE_BYTES);
        clientDecoder.feed(firstUpdate, 0, firstUpdate.length);
        GobClientDecoder.Response r = clientDecoder.next();
        Samples.expect("Agent.Subscribe", r == null ? null : r.serviceMethod(), "method of the decoded response");
        Samples.expect(Samples.SUBSCRIBE_SEQ, r.seq(), "seq of the decoded response");
        Samples.expect("", r.error(), "error of the decoded response");
        Samples.expect(Samples.UPDATE, r.update(), "the decoded ServiceUpdate (first frame)");
        Samples.expect(Samples.UPDATE, decodeUpdate(), "the decoded ServiceUpdate (later frame)");
    }

    /** The client encodes a Register request: header and Args body. */
    @Benchmark
    public void clientEncodeRegister(Blackhole bh) {
        bh.consume(clientEncoder.encodeRequest("Agent.Register", Samples.REGISTER_SEQ, Samples.REGISTER));
    }

    /** The server decodes a Register request fed as the bytes the client sent. */
    @Benchmark
    public void serverDecodeRegister(Blackhole bh) throws Exception {
        bh.consume(decodeRegister());
    }

    /** The server encodes one subscriber's stream item. */
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

    /** The client decodes a stream item into a ServiceUpdate. */
    @Benchmark
    public void clientDecodeUpdate(Blackhole bh) throws Exception {
        bh.consume(decodeUpdate());
    }

    private RpcRequest decodeRegister() throws Exception {
        serverDecoder.feed(registerFrame, 0, registerFrame.length);
        return serverDecoder.next();
    }

    private ServiceUpdate decodeUpdate() throws Exception {
        clientDecoder.feed(updateFrame, 0, updateFrame.length);
        return clientDecoder.next().update();
    }
}
