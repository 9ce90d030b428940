package io.discoverd.bench.wire;

import io.discoverd.protocol.Args;
import io.discoverd.protocol.ServiceUpdate;
import io.discoverd.protocol.gob.GobClientDecoder;
import io.discoverd.protocol.gob.GobClientEncoder;
import io.discoverd.protocol.gob.GobException;
import io.discoverd.protocol.http.Handshake;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * One upgraded gob connection of the load generator: pipelined calls matched to replies by Seq, and
 * Subscribe streams (PROTOCOL.md §2). Replies and stream items are handled on the connection's event
 * loop; handlers must not block.
 *
 * <p>Writing: requests are queued and written together by the connection's event loop: those
 * started while it handles a read go out when the read has been handled, the others (started on
 * other threads, e.g. by replies on other connections) in a task queued on the loop, so the
 * requests queued before the loop gets to them cost one write system call, as the ZooKeeper and
 * etcd clients write the requests they have queued on their one connection together.
 *
 * <p>Thread-safe: calls may be made from any thread (encoding and queueing are serialised on this
 * object).
 */
public final class WireConnection {

    private static final byte[] CONNECT = ("CONNECT " + Handshake.RPC_PATH + " HTTP/1.0\r\n"
            + "Accept: " + Handshake.GOB_MEDIA_TYPE + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    private static final String CONNECTED = "200 Connected to Go RPC";

    private final NetSocket socket;
    private final GobClientEncoder encoder = new GobClientEncoder();
    private final GobClientDecoder decoder = new GobClientDecoder(16 << 20);
    private final Map<Long, CompletableFuture<GobClientDecoder.Response>> calls = new ConcurrentHashMap<>();
    private final Map<Long, Consumer<ServiceUpdate>> streams = new ConcurrentHashMap<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final java.util.Queue<String> streamErrors = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final EventLoop eventLoop;
    private final Runnable flushTask = this::flush;
    private long nextSeq;
    private Buffer handshake = Buffer.buffer();
    /** Frames encoded but not yet written, in Seq order; guarded by {@code this}. */
    private List<byte[]> pending = new ArrayList<>();
    /** A flush is due: queued on the event loop, or coming at the end of the reply handling under way. */
    private boolean flushDue;
    /** Replies are being handled on the event loop: calls they start are written when it ends. */
    private boolean handling;

    private WireConnection(NetSocket socket) {
        this.socket = socket;
        this.eventLoop = ((NetSocketInternal) socket).channelHandlerContext().channel().eventLoop();
    }

    static Future<WireConnection> upgrade(NetSocket socket) {
        WireConnection c = new WireConnection(socket);
        Promise<WireConnection> upgraded = Promise.promise();
        socket.handler(data -> c.onData(data, upgraded));
        socket.closeHandler(v -> c.onClosed(upgraded));
        socket.write(Buffer.buffer(CONNECT));
        return upgraded.future();
    }

    private void onData(Buffer data, Promise<WireConnection> upgraded) {
        handling = true;
        try {
            read(data, upgraded);
        } finally {
            handling = false;
            flush();
        }
    }

    private void read(Buffer data, Promise<WireConnection> upgraded) {
        if (handshake != null) {
            handshake.appendBuffer(data);
            String text = handshake.toString(StandardCharsets.ISO_8859_1);
            // Go's answer ends its head with "\n\n" (PROTOCOL.md §1.3).
            int end = text.indexOf("\n\n");
            if (end < 0) {
                return;
            }
            String status = text.substring(0, text.indexOf('\n')).trim();
            byte[] rest = handshake.getBytes(end + 2, handshake.length());
            handshake = null;
            if (!status.endsWith(CONNECTED)) {
                upgraded.tryFail("CONNECT refused: " + status);
                socket.close();
                return;
            }
            upgraded.tryComplete(this);
            decoder.feed(rest, 0, rest.length);
        } else {
            byte[] bytes = data.getBytes();
            decoder.feed(bytes, 0, bytes.length);
        }
        drain();
    }

    private void drain() {
        try {
            GobClientDecoder.Response r;
            while ((r = decoder.next()) != null) {
                CompletableFuture<GobClientDecoder.Response> call = calls.remove(r.seq());
                if (call != null) {
                    call.complete(r);
                    continue;
                }
                Consumer<ServiceUpdate> stream = streams.get(r.seq());
                if (stream != null && r.error().isEmpty()) {
                    stream.accept(r.update());
                } else if (stream != null) {
                    streams.remove(r.seq());
                    if (!r.error().equals("EOS")) {
                        streamErrors.add(r.error());
                    }
                }
            }
        } catch (GobException e) {
            socket.close();
        }
    }

    private void onClosed(Promise<WireConnection> upgraded) {
        upgraded.tryFail("connection closed during the CONNECT handshake");
        IllegalStateException gone = new IllegalStateException("connection closed");
        calls.values().forEach(f -> f.completeExceptionally(gone));
        calls.clear();
        closed.complete(null);
    }

    /**
     * Sends one call and completes with its reply (an error reply too: check {@code error()}).
     *
     * @param method e.g. {@code Agent.Register}
     * @param args   the body
     * @return the reply; completed on the event loop, exceptionally when the connection closes first
     */
    public CompletableFuture<GobClientDecoder.Response> call(String method, Args args) {
        CompletableFuture<GobClientDecoder.Response> reply = new CompletableFuture<>();
        byte[] frame;
        synchronized (this) {
            long seq = nextSeq++;
            calls.put(seq, reply);
            frame = encoder.encodeRequest(method, seq, args);
            queue(frame);
        }
        return reply;
    }

    /** Queues a frame; the caller holds {@code this}. */
    private void queue(byte[] frame) {
        pending.add(frame);
        if (!flushDue) {
            flushDue = true;
            if (!(eventLoop.inEventLoop() && handling)) {
                try {
                    eventLoop.execute(flushTask);
                } catch (RejectedExecutionException e) {
                    flushDue = false; // the loop has shut down: the connection is gone with it
                }
            }
        }
    }

    /** Writes the queued frames as one buffer (one system call). */
    private void flush() {
        List<byte[]> frames;
        synchronized (this) {
            flushDue = false;
            if (pending.isEmpty()) {
                return;
            }
            frames = pending;
            pending = new ArrayList<>();
        }
        socket.write(BufferInternal.buffer(Unpooled.wrappedBuffer(frames.toArray(new byte[0][]))));
    }

    /** {@code Agent.Register}: completes with the reply; fails when the daemon answered an error. */
    public CompletableFuture<String> register(String name, String addr, Map<String, String> attrs) {
        return call("Agent.Register", new Args(name, addr, attrs)).thenApply(r -> {
            if (!r.error().isEmpty()) {
                throw new IllegalStateException("Register " + name + " " + addr + ": " + r.error());
            }
            return (String) r.body();
        });
    }

    /** {@code Agent.Unregister}: completes with the reply; fails when the daemon answered an error. */
    public CompletableFuture<Void> unregister(String name, String addr) {
        return call("Agent.Unregister", new Args(name, addr, null)).thenAccept(r -> {
            if (!r.error().isEmpty()) {
                throw new IllegalStateException("Unregister " + name + " " + addr + ": " + r.error());
            }
        });
    }

    /**
     * {@code Agent.Subscribe}: every stream item (the snapshot, the sentinel, then changes) goes to
     * {@code onUpdate} on the event loop, until the stream ends.
     *
     * @return the stream's Seq, for {@link #closeStream}
     */
    public long subscribe(String name, Consumer<ServiceUpdate> onUpdate) {
        synchronized (this) {
            long seq = nextSeq++;
            streams.put(seq, onUpdate);
            queue(encoder.encodeRequest("Agent.Subscribe", seq, new Args(name, "", null)));
            return seq;
        }
    }

    /** {@code RpcClient.CloseStream}: the daemon ends the stream (PROTOCOL.md §2.4); no more items reach its handler. */
    public void closeStream(long seq) {
        synchronized (this) {
            streams.remove(seq);
            queue(encoder.encodeCloseStream(seq));
        }
    }

    /**
     * The errors that ended streams of this connection other than with {@code EOS} (a failed
     * subscription, PROTOCOL.md §5.5.4), in order; a benchmark that sees one has not measured what it
     * meant to.
     */
    public List<String> streamErrors() {
        return List.copyOf(streamErrors);
    }

    /** Completes when the connection is closed (by either side). */
    public CompletableFuture<Void> closed() {
        return closed;
    }

    /** Closes the connection. */
    public void close() {
        socket.close();
    }
}
