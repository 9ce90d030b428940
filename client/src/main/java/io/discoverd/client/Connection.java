package io.discoverd.client;

import io.discoverd.protocol.Args;
import io.discoverd.protocol.ServiceUpdate;
import io.discoverd.protocol.gob.GobClientDecoder;
import io.discoverd.protocol.gob.GobClientEncoder;
import io.discoverd.protocol.gob.GobException;
import io.discoverd.protocol.http.Handshake;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BiConsumer;

/**
 * One upgraded gob connection to a daemon: the rpcplus client side (PROTOCOL.md §1, §2).
 *
 * <p>Calls are matched to responses by {@code Seq}, numbered 0, 1, 2, … like the Go client. A
 * dedicated read thread decodes responses and completes calls or hands stream items to their
 * {@link StreamHandler}; handlers must be quick and must not block (the sets only update their
 * maps there and queue listener events). Requests are encoded under a lock, so the stateful encoder
 * sees them in wire order, and handed to a dedicated write thread: no caller ever blocks on the
 * socket, whatever locks it holds, even when the daemon has stopped reading and the send buffer is
 * full. A connection whose daemon stopped answering is ended by its owner ({@link #abort}) when a
 * call times out.
 *
 * <p>Once closed (by {@link #close()}, the peer, or an undecodable response) it stays closed:
 * pending calls fail with {@link DiscoverdException.Kind#DISCONNECTED}, and {@code onClosed} runs
 * once on the read thread. Thread-safe.
 */
final class Connection {

    /** Receives the items and the end of one stream. Called on the read thread. */
    interface StreamHandler {
        /** One item (snapshot entry, sentinel or live update). */
        void onItem(ServiceUpdate update);

        /** The stream's final frame: {@code "EOS"} or a failure text. Not called when the connection drops. */
        void onEnd(String error);
    }

    static final int MAX_MESSAGE_BYTES = 16 << 20;
    private static final int MAX_HANDSHAKE_BYTES = 4096;
    private static final byte[] CONNECT_REQUEST = ("CONNECT " + Handshake.RPC_PATH + " HTTP/1.0\r\n"
            + "Accept: " + Handshake.GOB_MEDIA_TYPE + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    private static final String CONNECTED_STATUS = "200 Connected to Go RPC";

    private final DaemonAddress address;
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final GobClientEncoder encoder = new GobClientEncoder();
    private final Object writeLock = new Object();
    /** Encoded requests in wire order; {@link #END_OF_WRITES} stops the write thread. */
    private final BlockingQueue<byte[]> writes = new LinkedBlockingQueue<>();
    private static final byte[] END_OF_WRITES = new byte[0];
    private long nextSeq;
    private final Map<Long, CompletableFuture<Object>> calls = new ConcurrentHashMap<>();
    private final Map<Long, StreamHandler> streams = new ConcurrentHashMap<>();
    private final BiConsumer<Connection, Throwable> onClosed;
    private volatile boolean closed;
    private volatile Throwable closeCause;

    private Connection(DaemonAddress address, Socket socket, InputStream in, BiConsumer<Connection, Throwable> onClosed) throws IOException {
        this.address = address;
        this.socket = socket;
        this.in = in;
        this.out = socket.getOutputStream();
        this.onClosed = onClosed;
    }

    /**
     * Dials, sends the CONNECT request and checks the answer (PROTOCOL.md §1.2, §1.3), then starts
     * the read thread.
     *
     * @param timeoutMillis bound on the TCP connect and on waiting for the answer
     * @param onClosed      runs once, on the read thread, when the connection ends (with the cause,
     *                      {@code null} after {@link #close()}); it may run before this method returns
     * @throws IOException when the daemon cannot be reached or does not answer as a discoverd daemon
     */
    static Connection open(DaemonAddress address, int timeoutMillis, BiConsumer<Connection, Throwable> onClosed) throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.setKeepAlive(true);
            s.connect(new InetSocketAddress(address.host(), address.port()), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            OutputStream o = s.getOutputStream();
            o.write(CONNECT_REQUEST);
            o.flush();
            InputStream in = new BufferedInputStream(s.getInputStream(), 16 * 1024);
            readConnectAnswer(in);
            s.setSoTimeout(0);
            Connection c = new Connection(address, s, in, onClosed);
            Thread w = new Thread(c::writeLoop, "discoverd-client-writer-" + address);
            w.setDaemon(true);
            w.start();
            Thread t = new Thread(c::readLoop, "discoverd-client-reader-" + address);
            t.setDaemon(true);
            t.start();
            return c;
        } catch (IOException | RuntimeException e) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already failing
            }
            if (e instanceof SocketTimeoutException) {
                throw new SocketTimeoutException("no answer to CONNECT from " + address + " within " + timeoutMillis + " ms");
            }
            throw e;
        }
    }

    /**
     * Reads the HTTP answer byte by byte up to its blank line, so that nothing of the RPC stream is
     * consumed, and accepts it only with the status text the Go client requires.
     */
    static void readConnectAnswer(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int prev = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed during the CONNECT handshake");
            }
            if (b == '\n' && (prev == '\n' || endsWithCrLfCr(head))) {
                break;
            }
            head.write(b);
            prev = b;
            if (head.size() > MAX_HANDSHAKE_BYTES) {
                throw new IOException("CONNECT answer larger than " + MAX_HANDSHAKE_BYTES + " bytes");
            }
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        int eol = text.indexOf('\n');
        String status = (eol < 0 ? text : text.substring(0, eol)).replace("\r", "");
        int sp = status.indexOf(' ');
        if (!status.startsWith("HTTP/") || sp < 0 || !status.substring(sp + 1).equals(CONNECTED_STATUS)) {
            throw new IOException("unexpected HTTP response: " + status);
        }
    }

    private static boolean endsWithCrLfCr(ByteArrayOutputStream head) {
        byte[] b = head.toByteArray();
        int n = b.length;
        return n >= 3 && b[n - 1] == '\r' && b[n - 2] == '\n' && b[n - 3] == '\r';
    }

    DaemonAddress address() {
        return address;
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * Sends one non-stream call. The future completes with the reply body (a {@link String} for
     * {@code Agent.Register}, a decoded struct otherwise) or a {@link DiscoverdException}
     * ({@code SERVER_ERROR}, {@code DISCONNECTED}). Cancelling it forgets the call.
     */
    CompletableFuture<Object> call(String method, Args args) {
        CompletableFuture<Object> f = new CompletableFuture<>();
        if (closed) {
            f.completeExceptionally(disconnected());
            return f;
        }
        synchronized (writeLock) {
            long seq = nextSeq++;
            calls.put(seq, f);
            f.whenComplete((r, e) -> calls.remove(seq, f));
            write(encoder.encodeRequest(method, seq, args));
        }
        if (closed) {
            f.completeExceptionally(disconnected());
        }
        return f;
    }

    /**
     * Starts an {@code Agent.Subscribe} stream.
     *
     * @return the stream's Seq, for {@link #closeStream(long)}
     * @throws DiscoverdException {@code DISCONNECTED} when the connection is already closed
     */
    long subscribe(String name, StreamHandler handler) throws DiscoverdException {
        if (closed) {
            throw disconnected();
        }
        long seq;
        synchronized (writeLock) {
            seq = nextSeq++;
            streams.put(seq, handler);
            write(encoder.encodeRequest("Agent.Subscribe", seq, new Args(name, "", null)));
        }
        return seq;
    }

    /**
     * Forgets stream {@code seq} at once (its remaining items are dropped) and sends CloseStream
     * (PROTOCOL.md §2.4), best effort. The final EOS frame is not awaited: the original daemon sent
     * it only at the next event for the name, possibly never.
     */
    void closeStream(long seq) {
        if (streams.remove(seq) == null || closed) {
            return;
        }
        synchronized (writeLock) {
            write(encoder.encodeCloseStream(seq));
        }
    }

    /** Closes the socket; pending calls fail with DISCONNECTED. Idempotent; never blocks. */
    void close() {
        closed = true;
        writes.offer(END_OF_WRITES);
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /**
     * Declares the daemon dead (a call or heartbeat got no answer in time: it may be powered off,
     * partitioned or stopped, none of which closes TCP) and closes the connection, so that the owner's
     * {@code onClosed} sees {@code why} and reconnects. Idempotent; never blocks.
     */
    void abort(String why) {
        fail(new IOException(why));
    }

    /** Queues one encoded request; the write thread sends it. Holds {@link #writeLock}, never blocks. */
    private void write(byte[] bytes) {
        writes.add(bytes);
    }

    private void writeLoop() {
        try {
            while (true) {
                byte[] b = writes.take();
                if (b == END_OF_WRITES || closed) {
                    return;
                }
                out.write(b);
                if (writes.isEmpty()) {
                    out.flush();
                }
            }
        } catch (IOException e) {
            fail(e);
        } catch (InterruptedException e) {
            fail(new IOException("write thread interrupted", e));
        }
    }

    private void fail(Throwable cause) {
        if (closeCause == null) {
            closeCause = cause;
        }
        close();
    }

    DiscoverdException disconnected() {
        Throwable c = closeCause;
        return DiscoverdException.of(DiscoverdException.Kind.DISCONNECTED,
                "discoverd: disconnected from " + address + (c == null || c.getMessage() == null ? "" : " (" + c.getMessage() + ")"), c);
    }

    private void readLoop() {
        GobClientDecoder decoder = new GobClientDecoder(MAX_MESSAGE_BYTES);
        byte[] buf = new byte[16 * 1024];
        Throwable cause = null;
        try {
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    cause = new EOFException("connection closed by the daemon");
                    break;
                }
                decoder.feed(buf, 0, n);
                GobClientDecoder.Response r;
                while ((r = decoder.next()) != null) {
                    dispatch(r);
                }
            }
        } catch (IOException | GobException | RuntimeException e) {
            cause = e;
        }
        if (closed) {
            cause = closeCause; // closed by us: null from close(), the reason from abort()
        }
        fail(cause == null ? new EOFException("connection closed") : cause);
        List<CompletableFuture<Object>> pending = new ArrayList<>(calls.values());
        calls.clear();
        streams.clear();
        DiscoverdException d = disconnected();
        for (CompletableFuture<Object> f : pending) {
            f.completeExceptionally(d);
        }
        onClosed.accept(this, cause);
    }

    private void dispatch(GobClientDecoder.Response r) throws GobException {
        CompletableFuture<Object> f = calls.remove(r.seq());
        if (f != null) {
            if (r.error().isEmpty()) {
                f.complete(r.body());
            } else {
                f.completeExceptionally(DiscoverdException.server(r.serviceMethod(), r.error()));
            }
            return;
        }
        StreamHandler h = streams.get(r.seq());
        if (h == null) {
            return; // a closed stream's late item or EOS, or a call that timed out
        }
        if (r.error().isEmpty()) {
            h.onItem(r.update());
        } else {
            streams.remove(r.seq(), h);
            h.onEnd(r.error());
        }
    }
}
