package io.discoverd.server.rpc;

import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Subscription;
import io.discoverd.backend.SubscriptionListener;
import io.discoverd.backend.Instance;
import io.discoverd.protocol.PreparedUpdate;
import io.discoverd.protocol.rpc.ProtocolException;
import io.discoverd.protocol.rpc.RpcRequest;
import io.discoverd.protocol.rpc.ServerCodec;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One upgraded RPC connection (PROTOCOL.md §2): reads requests through its codec, dispatches them
 * to the {@link Agent}, writes replies and stream items, and owns the connection's streams.
 *
 * <p>Threading: everything here runs on the connection's event-loop thread (its Vert.x context;
 * stream updates in a task of the loop's {@link LoopMailbox}, outside a Vert.x dispatch), because
 * the codec is not thread-safe. Backend completions arrive on backend threads and hop onto
 * that context with {@link Context#runOnContext}; subscription callbacks hop onto the same event
 * loop through its {@link LoopMailbox} (one task for many streams). Both keep their order. Calls
 * run concurrently: the reader never waits for a reply.
 *
 * <p>Writing: frames encoded while the event loop works through its queued tasks (a change fanned
 * out to several streams of this connection, replies completing together) are written to the
 * socket together by a task queued behind them, so they cost one flush (one system call) instead
 * of one each; the bytes and their order are unchanged.
 */
public final class Session {

    private static final Logger log = LoggerFactory.getLogger(Session.class);

    /** The final frame's text of a stream ended by CloseStream (PROTOCOL.md §2.3). */
    public static final String EOS = "EOS";

    /**
     * Most streams one connection may hold open. Each costs store-side state (a watch per service),
     * so an unbounded number would let one client exhaust the daemon and the store; a Subscribe over
     * the limit gets the sentinel and an error frame (PROTOCOL.md §5.5.4).
     */
    public static final int MAX_STREAMS = 4096;

    /**
     * Most non-stream calls one connection may have running at once; beyond it the session stops
     * reading from the socket until replies drain to half of it (TCP then pushes back on the client).
     */
    public static final int MAX_IN_FLIGHT = 1024;

    /**
     * Most bytes of frames held back for one write; at this size they are written at once, so the
     * slow-reader bound is checked at least this often.
     */
    private static final int MAX_BATCH_BYTES = 64 * 1024;
    /** A batch list that grew beyond this many frames is dropped after its write, not kept. */
    private static final int KEPT_BATCH_FRAMES = 16;
    /** Snapshot entries of a stream queued before a drain is asked for ({@code Stream.online}). */
    static final int SNAPSHOT_CHUNK = 256;

    private final NetSocket socket;
    private final ServerCodec codec;
    private final Agent agent;
    private final Context context;
    /** The connection's event loop: the thread everything here runs on. */
    private final EventLoop eventLoop;
    /** Where this connection's streams queue their updates for the event loop ({@link LoopMailbox}). */
    private final LoopMailbox mailbox;
    private final String remote;
    private final Runnable onClosed;
    /** Active streams by stream key (gob Seq, JSON id text); several may share a key (PROTOCOL.md §4.5). */
    private final Map<String, List<Stream>> streams = new HashMap<>();
    private int streamCount;
    private int inFlight;
    private boolean paused;
    private boolean closed;
    /** Frames not yet handed to the socket, in order; written by {@link #flush}. */
    private List<byte[]> batch = new ArrayList<>();
    private int batchBytes;
    private boolean flushQueued;
    private final Handler<Void> flushTask = v -> {
        flushQueued = false;
        flush();
    };

    private Session(NetSocket socket, ServerCodec codec, Agent agent, Context context, Runnable onClosed) {
        this.socket = socket;
        this.codec = codec;
        this.agent = agent;
        this.context = context;
        this.eventLoop = ((ContextInternal) context).nettyEventLoop();
        this.mailbox = agent.mailbox(eventLoop);
        this.remote = String.valueOf(socket.remoteAddress());
        this.onClosed = onClosed;
    }

    /**
     * Takes over an upgraded connection. Must be called on the socket's event loop, after the
     * {@code 200} answer was written; replaces the socket's handlers.
     *
     * @param socket       the connection
     * @param codec        the codec chosen by the handshake, owned by the session from now on
     * @param agent        the service
     * @param maxQueueBytes the bound of unsent bytes; a connection over it is closed as a slow
     *                     reader (ARCHITECTURE.md, "Threading")
     * @param remaining    bytes that followed the CONNECT request: fed to the codec first
     *                     (PROTOCOL.md §1.5, checklist #9); not retained
     * @param onClosed     run once on the event loop when the connection is closed, or {@code null}
     * @return the session
     */
    public static Session start(NetSocket socket, ServerCodec codec, Agent agent, int maxQueueBytes,
                                byte[] remaining, Runnable onClosed) {
        Context context = Objects.requireNonNull(Vertx.currentContext(), "Session.start must run on the socket's context");
        Session s = new Session(socket, codec, agent, context, onClosed);
        socket.setWriteQueueMaxSize(maxQueueBytes);
        socket.handler(s::onData);
        socket.closeHandler(v -> s.release());
        socket.exceptionHandler(t -> {
            log.debug("connection from {}: {}", s.remote, t.toString());
            s.close();
        });
        if (remaining != null && remaining.length > 0) {
            s.onBytes(remaining);
        }
        return s;
    }

    private void onData(Buffer data) {
        onBytes(data.getBytes());
    }

    private void onBytes(byte[] bytes) {
        if (closed) {
            return;
        }
        boolean fed = false;
        while (!closed) {
            RpcRequest request;
            try {
                if (!fed) {
                    codec.feed(bytes, 0, bytes.length);
                    fed = true;
                }
                request = codec.next();
            } catch (ProtocolException e) {
                log.warn("closing connection from {}: {}", remote, e.getMessage());
                close();
                return;
            } catch (RuntimeException e) {
                log.error("closing connection from {}: codec failure", remote, e);
                close();
                return;
            }
            if (request == null) {
                return;
            }
            try {
                dispatch(request);
            } catch (RuntimeException e) {
                // A bug for one call must not take the connection's other calls with it.
                write(codec.encodeError(request, internalError(e)));
            }
        }
    }

    /** PROTOCOL.md §2.5. */
    private void dispatch(RpcRequest request) {
        if (RpcRequest.CLOSE_STREAM.equals(request.serviceMethod())) {
            closeStreams(request.streamKey());
            return;
        }
        AgentMethod method;
        try {
            method = AgentMethod.resolve(request.serviceMethod());
        } catch (AgentMethod.UnknownMethodException e) {
            write(codec.encodeError(request, e.getMessage()));
            return;
        }
        if (request.argsError() != null || request.args() == null) {
            String text = request.argsError();
            write(codec.encodeError(request, text == null || text.isEmpty() ? "rpc: cannot decode Args" : text));
            return;
        }
        switch (method) {
            case REGISTER -> reply(request, agent.register(request.args()), addr -> codec.encodeString(request, addr));
            case UNREGISTER -> reply(request, agent.unregister(request.args()), v -> codec.encodeEmpty(request));
            case LEADER -> reply(request, agent.leader(request.args()), u -> codec.encodeUpdate(request, u));
            case SUBSCRIBE -> subscribe(request);
        }
    }

    private <T> void reply(RpcRequest request, CompletionStage<T> stage, Function<T, byte[]> encode) {
        if (++inFlight >= MAX_IN_FLIGHT && !paused) {
            paused = true;
            socket.pause();
        }
        // A stage completed on this event loop (a heartbeat answered from memory) is answered at once;
        // one completed elsewhere (a store callback) hops back onto this connection's context.
        stage.whenComplete((value, failure) -> {
            if (eventLoop.inEventLoop()) {
                replied(request, value, failure, encode);
            } else {
                context.runOnContext(v -> replied(request, value, failure, encode));
            }
        });
    }

    /** Answers a finished call; on the session's context. */
    private <T> void replied(RpcRequest request, T value, Throwable failure, Function<T, byte[]> encode) {
        if (--inFlight <= MAX_IN_FLIGHT / 2 && paused && !closed) {
            paused = false;
            socket.resume();
        }
        if (closed) {
            return; // PROTOCOL.md §1.5: replies of calls still running are dropped
        }
        byte[] frame;
        try {
            frame = failure == null ? encode.apply(value) : codec.encodeError(request, errorText(failure));
        } catch (RuntimeException e) {
            // Every call gets an answer: a reply that cannot be encoded becomes an error reply.
            frame = codec.encodeError(request, internalError(e));
        }
        write(frame);
    }

    private void subscribe(RpcRequest request) {
        Stream stream = new Stream(request);
        if (streamCount >= MAX_STREAMS) {
            stream.sentinelSent = true;
            write(codec.encodeUpdate(request, PreparedUpdate.SENTINEL));
            write(codec.encodeError(request, "discoverd: too many streams on this connection (limit " + MAX_STREAMS + ")"));
            return;
        }
        streamCount++;
        streams.computeIfAbsent(request.streamKey(), k -> new ArrayList<>(1)).add(stream);
        try {
            stream.subscription = agent.subscribe(request.args(), stream);
        } catch (RuntimeException e) {
            fail(stream, errorText(e));
        }
    }

    /** PROTOCOL.md §2.4, §4.5: ends every active stream with this key with EOS; unknown keys are ignored. */
    private void closeStreams(String key) {
        List<Stream> ending = streams.remove(key);
        if (ending == null) {
            return;
        }
        for (Stream s : ending) {
            s.ended = true;
            streamCount--;
            s.release();
            write(codec.encodeError(s.call, EOS));
        }
    }

    private void deliver(Stream stream, PreparedUpdate update) {
        if (closed || stream.ended) {
            return; // nothing after the final frame (PROTOCOL.md §2.3)
        }
        if (update.update().isSentinel()) {
            if (stream.sentinelSent) {
                return;
            }
            stream.sentinelSent = true;
        }
        byte[] frame;
        try {
            frame = codec.encodeUpdate(stream.call, update);
        } catch (RuntimeException e) {
            fail(stream, internalError(e));
            return;
        }
        write(frame);
    }

    /** PROTOCOL.md §5.5.4: the sentinel if not yet sent, then a final frame with the failure text. */
    private void fail(Stream stream, String text) {
        if (closed || stream.ended) {
            return;
        }
        if (!stream.sentinelSent) {
            stream.sentinelSent = true;
            write(codec.encodeUpdate(stream.call, PreparedUpdate.SENTINEL));
        }
        stream.ended = true;
        streamCount--;
        stream.release();
        List<Stream> same = streams.get(stream.call.streamKey());
        if (same != null) {
            same.remove(stream);
            if (same.isEmpty()) {
                streams.remove(stream.call.streamKey());
            }
        }
        write(codec.encodeError(stream.call, text == null || text.isEmpty() ? "discoverd: subscription failed" : text));
    }

    /** Queues a frame for {@link #flush}, queued behind the tasks already waiting on the event loop. */
    private void write(byte[] frame) {
        if (closed) {
            return;
        }
        batch.add(frame);
        batchBytes += frame.length;
        if (batchBytes >= MAX_BATCH_BYTES) {
            flush();
        } else if (!flushQueued) {
            flushQueued = true;
            context.runOnContext(flushTask);
        }
    }

    /**
     * Writes the queued frames as one buffer: the frames are wrapped, not copied (Vert.x's
     * {@code Buffer.buffer(byte[])} copies), and Netty copies them once into a direct buffer, with
     * one flush.
     */
    private void flush() {
        if (closed || batch.isEmpty()) {
            return;
        }
        int n = batch.size();
        ByteBuf frames = n == 1 ? Unpooled.wrappedBuffer(batch.get(0)) : Unpooled.wrappedBuffer(batch.toArray(new byte[0][]));
        if (n > KEPT_BATCH_FRAMES) {
            batch = new ArrayList<>(); // a fan-out to many streams must not leave a large array behind
        } else {
            batch.clear();
        }
        batchBytes = 0;
        socket.write(BufferInternal.buffer(frames));
        if (socket.writeQueueFull()) {
            // The Go client reconnects and resubscribes after a dropped connection, but not after an
            // error frame; and an unbounded buffer would let one reader exhaust the heap.
            log.warn("closing connection from {}: the client is not reading (more than its outbound bound queued)", remote);
            abort();
        }
    }

    /**
     * Closes at once, discarding what is queued: a plain close would first wait for the queue to
     * drain, which a peer that does not read never lets happen. The peer sees a reset.
     */
    private void abort() {
        release();
        if (socket instanceof NetSocketInternal internal) {
            Channel channel = internal.channelHandlerContext().channel();
            channel.config().setOption(ChannelOption.SO_LINGER, 0);
            channel.close();
        } else {
            socket.close();
        }
    }

    /**
     * Closes the connection after what is already queued: streams are released at once, replies of
     * calls still running are dropped. Idempotent. Must be called on the session's context.
     */
    public void close() {
        flush();
        release();
        socket.close();
    }

    /** PROTOCOL.md §1.5: on close, every stream ends at once; registrations are untouched. */
    private void release() {
        if (closed) {
            return;
        }
        closed = true;
        batch.clear();
        batchBytes = 0;
        for (List<Stream> list : streams.values()) {
            for (Stream s : list) {
                s.ended = true;
                s.release();
            }
        }
        streams.clear();
        if (onClosed != null) {
            onClosed.run();
        }
    }

    /** The wire text of a failed call: a {@link DiscoveryException}'s message, else an internal error. */
    static String errorText(Throwable failure) {
        Throwable t = DiscoveryException.rootCause(failure);
        if (t instanceof DiscoveryException && t.getMessage() != null && !t.getMessage().isEmpty()) {
            return t.getMessage();
        }
        return internalError(t);
    }

    private static String internalError(Throwable t) {
        log.error("internal error", t);
        return "discoverd: internal error: " + t;
    }

    /** One Subscribe stream: the backend listener, hopping every callback onto the session's context. */
    private final class Stream implements SubscriptionListener {
        final RpcRequest call;
        Subscription subscription;
        boolean sentinelSent;
        boolean ended;
        /**
         * What the backend reported and the context has not handled yet, in order: {@link
         * PreparedUpdate}s and at most one {@link Failure}. A burst (a snapshot of thousands of
         * instances) is handled by one task on the context instead of one task per update, so its
         * frames go out in few writes.
         */
        private final Queue<Object> inbox = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean drainQueued = new AtomicBoolean();
        private final Runnable drainTask = this::drain;
        /**
         * Whether {@code current()} has come ({@link #online}). Touched only by the listener's calls,
         * which come one at a time, each happening-before the next (SubscriptionListener).
         */
        private boolean live;
        /** Snapshot entries queued since the last drain was asked for; touched as {@link #live}. */
        private int unscheduled;

        Stream(RpcRequest call) {
            this.call = call;
        }

        void release() {
            if (subscription != null) {
                try {
                    subscription.close();
                } catch (RuntimeException e) {
                    log.warn("closing a subscription failed", e);
                }
            }
        }

        /**
         * Any thread: queues an item and makes sure a drain runs on the event loop after it, through
         * the loop's {@link LoopMailbox} (one task for the streams of all its connections).
         */
        private void post(Object item) {
            inbox.add(item);
            scheduleDrain();
        }

        private void scheduleDrain() {
            if (drainQueued.compareAndSet(false, true)) {
                mailbox.post(drainTask);
            }
        }

        /** On the context: handles everything queued so far, in order. */
        private void drain() {
            drainQueued.set(false); // an item queued from now on queues another drain
            Object item;
            while ((item = inbox.poll()) != null) {
                if (item instanceof PreparedUpdate u) {
                    deliver(this, u);
                } else {
                    fail(this, ((Failure) item).text());
                }
            }
        }

        /**
         * A live change is handed to the event loop at once. A snapshot entry is queued, and a drain is
         * asked for only every {@value Session#SNAPSHOT_CHUNK} entries and at {@code current()} (any
         * later call posts, and a drain takes everything queued, in order). Asking for one per entry
         * let the loop empty the queue faster than the backend filled it: a traced 5,000-instance
         * snapshot took ~350 drains, each a possible wake-up (a system call on both threads). A
         * snapshot of more than {@value Session#SNAPSHOT_CHUNK} entries still starts going out before
         * the backend has handed over all of it.
         */
        @Override
        public void online(Instance instance) {
            PreparedUpdate update = agent.prepareOnline(instance);
            if (live) {
                post(update);
                return;
            }
            inbox.add(update);
            if (++unscheduled == SNAPSHOT_CHUNK) {
                unscheduled = 0;
                scheduleDrain();
            }
        }

        @Override
        public void offline(String name, String addr) {
            post(agent.prepareOffline(name, addr));
        }

        @Override
        public void current() {
            live = true;
            unscheduled = 0;
            post(PreparedUpdate.SENTINEL);
        }

        @Override
        public void failed(DiscoveryException cause) {
            post(new Failure(cause == null ? null : cause.getMessage()));
        }
    }

    /** A stream's failure, queued behind the updates reported before it. */
    private record Failure(String text) {
    }
}
