package io.discoverd.server.http;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.protocol.http.Handshake;
import io.discoverd.protocol.http.HttpRequestHead;
import io.discoverd.protocol.http.HttpRequestHeadParser;
import io.discoverd.protocol.rpc.ProtocolException;
import io.discoverd.protocol.rpc.ServerCodec;
import io.discoverd.server.rpc.Agent;
import io.discoverd.server.rpc.Session;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listener's connection handler: reads the HTTP request head that opens every connection and
 * routes it (PROTOCOL.md §1.3, §5.11). {@code CONNECT /_goRPC_} becomes an RPC {@link Session};
 * {@code GET /health} is answered by {@link Health}; {@code POST /drain} from a loopback source
 * address is answered 200 and then drains the daemon (from any other source: 403; another method on
 * {@code /drain}: 405); any other method on the RPC path gets 405, any other path 404. Plain HTTP
 * answers close the connection.
 *
 * <p>Thread-safe: each connection's state lives in its own handler, on its event loop.
 */
public final class FrontDoor implements Handler<NetSocket> {

    private static final Logger log = LoggerFactory.getLogger(FrontDoor.class);

    /** The largest request head accepted, in bytes; a longer one closes the connection. */
    public static final int MAX_HEAD_BYTES = 8 * 1024;
    /** How long a new connection may take to send its complete request head, in ms. */
    public static final long HEAD_TIMEOUT_MS = 60_000;

    private final Agent agent;
    private final DiscoveryBackend backend;
    private final String backendName;
    private final Function<Handshake.Codec, ServerCodec> codecs;
    private final int maxQueueBytes;
    private final Set<NetSocket> connections;
    private final Runnable drain;

    /**
     * @param agent         the RPC service
     * @param backend       the backend, for {@code /health}
     * @param backendName   the configured backend name, for {@code /health}
     * @param codecs        creates a fresh codec for an upgraded connection
     * @param maxQueueBytes the outbound bound per connection, bytes
     * @param connections   a concurrent set that holds every open connection, so the daemon can
     *                      close them on shutdown
     * @param drain         starts draining the daemon (give up everything, then stop); called at
     *                      most once per accepted {@code POST /drain}, on an event loop, after the
     *                      200 answer is written: it must not block
     */
    public FrontDoor(Agent agent, DiscoveryBackend backend, String backendName,
                     Function<Handshake.Codec, ServerCodec> codecs, int maxQueueBytes, Set<NetSocket> connections,
                     Runnable drain) {
        this.agent = agent;
        this.backend = backend;
        this.backendName = backendName;
        this.codecs = codecs;
        this.maxQueueBytes = maxQueueBytes;
        this.connections = connections;
        this.drain = drain;
    }

    @Override
    public void handle(NetSocket socket) {
        connections.add(socket);
        socket.closeHandler(v -> connections.remove(socket));
        socket.exceptionHandler(t -> log.debug("connection from {}: {}", socket.remoteAddress(), t.toString()));
        socket.handler(new Opening(socket));
    }

    /** A connection until its request head is complete. Runs on the connection's event loop. */
    private final class Opening implements Handler<Buffer> {
        private final NetSocket socket;
        private final HttpRequestHeadParser parser = new HttpRequestHeadParser(MAX_HEAD_BYTES);
        private final Vertx vertx = Vertx.currentContext().owner();
        private final long timer;
        private boolean done;

        Opening(NetSocket socket) {
            this.socket = socket;
            // Only the opening request is timed: an upgraded connection may idle for hours
            // (PROTOCOL.md §1.5), but a peer that never finishes its head just holds a socket.
            this.timer = vertx.setTimer(HEAD_TIMEOUT_MS, id -> {
                if (!done) {
                    done = true;
                    log.debug("closing connection from {}: no complete request head within {} ms",
                            socket.remoteAddress(), HEAD_TIMEOUT_MS);
                    socket.close();
                }
            });
        }

        @Override
        public void handle(Buffer data) {
            if (done) {
                return; // bytes after a plain HTTP request: the connection is closing
            }
            byte[] bytes = data.getBytes();
            HttpRequestHead head;
            try {
                head = parser.feed(bytes, 0, bytes.length);
            } catch (ProtocolException e) {
                finish();
                log.debug("closing connection from {}: {}", socket.remoteAddress(), e.getMessage());
                socket.close();
                return;
            }
            if (head != null) {
                finish();
                route(socket, head);
            }
        }

        private void finish() {
            done = true;
            vertx.cancelTimer(timer);
        }
    }

    private void route(NetSocket socket, HttpRequestHead head) {
        switch (Handshake.route(head)) {
            case CONNECT_RPC -> upgrade(socket, head);
            case METHOD_NOT_ALLOWED -> answer(socket, Handshake.methodNotAllowed());
            case NOT_FOUND -> {
                if (DRAIN_PATH.equals(head.pathWithoutQuery())) {
                    drain(socket, head);
                } else {
                    answer(socket, plainHttp(head));
                }
            }
        }
    }

    /** The path of the drain request (PROTOCOL.md §5.11). */
    public static final String DRAIN_PATH = "/drain";

    /**
     * {@code POST /drain}: only from a loopback source address, since it takes every instance this
     * daemon holds offline (PROTOCOL.md §5.11). The 200 answer is written first; the drain starts once
     * it is flushed (the daemon then closes every connection anyway).
     */
    private void drain(NetSocket socket, HttpRequestHead head) {
        if (!"POST".equals(head.method())) {
            answer(socket, Handshake.response(405, "Method Not Allowed", "text/plain; charset=utf-8",
                    "405 must POST\n".getBytes(StandardCharsets.US_ASCII)));
            return;
        }
        String source = socket.remoteAddress() == null ? null : socket.remoteAddress().hostAddress();
        if (!isLoopback(source)) {
            log.warn("refused POST /drain from {}: only loopback sources may drain", source);
            answer(socket, Handshake.response(403, "Forbidden", "text/plain; charset=utf-8",
                    "403 drain is accepted from loopback only\n".getBytes(StandardCharsets.US_ASCII)));
            return;
        }
        log.info("POST /drain from {}: draining", source);
        socket.handler(b -> { });
        byte[] body = "{\"status\":\"draining\"}\n".getBytes(StandardCharsets.US_ASCII);
        socket.write(Buffer.buffer(Handshake.response(200, "OK", "application/json", body)))
                .onComplete(ar -> socket.close().onComplete(c -> drain.run()));
    }

    /**
     * Whether a peer's IP address (a literal, as Vert.x reports it) is a loopback address; IPv4-mapped
     * IPv6 loopback ({@code ::ffff:127.0.0.1}) counts. {@code null} or a name is not.
     */
    public static boolean isLoopback(String hostAddress) {
        if (hostAddress == null || hostAddress.isEmpty()) {
            return false;
        }
        String literal = hostAddress.startsWith("[") && hostAddress.endsWith("]")
                ? hostAddress.substring(1, hostAddress.length() - 1) : hostAddress;
        int zone = literal.indexOf('%');
        if (zone >= 0) {
            literal = literal.substring(0, zone);
        }
        // Only literals: never resolve a name here.
        if (!literal.contains(":") && !literal.matches("[0-9.]+")) {
            return false;
        }
        try {
            return InetAddress.getByName(literal).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The daemon's own plain-HTTP paths (PROTOCOL.md §5.11) other than {@code /drain}. */
    private byte[] plainHttp(HttpRequestHead head) {
        String path = head.pathWithoutQuery();
        if ("GET".equals(head.method()) && Health.PATH.equals(path)) {
            return Health.response(backendName, backend);
        }
        return Handshake.notFound();
    }

    private void upgrade(NetSocket socket, HttpRequestHead head) {
        ServerCodec codec = codecs.apply(Handshake.codecFor(head));
        socket.write(Buffer.buffer(Handshake.connected()));
        Session.start(socket, codec, agent, maxQueueBytes, head.remaining(), () -> connections.remove(socket));
    }

    private static void answer(NetSocket socket, byte[] response) {
        socket.handler(b -> { });
        socket.write(Buffer.buffer(response)).onComplete(ar -> socket.close());
    }
}
