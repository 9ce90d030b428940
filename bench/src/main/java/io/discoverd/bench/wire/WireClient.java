package io.discoverd.bench.wire;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.transport.Transport;
import java.util.concurrent.TimeUnit;

/**
 * The load generator's side of the wire: many light gob connections to a daemon on a few event-loop
 * threads (10,000 subscriber connections would need 20,000 threads with the blocking client library),
 * on the transport the daemon takes by default ({@code transport: auto}: Netty's native epoll on
 * Linux x86-64 when it loads, else NIO), so that both sides of a fan-out pay the same per read and
 * write on the cores they share.
 *
 * <p>Thread-safe. {@link #close()} closes every connection it made.
 */
public final class WireClient implements AutoCloseable {

    private final Vertx vertx;
    private final NetClient net;

    /** @param eventLoops event-loop threads for all connections (the load generator's share of the cores) */
    public WireClient(int eventLoops) {
        vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(eventLoops).setWorkerPoolSize(1)
                .setBlockedThreadCheckInterval(10).setBlockedThreadCheckIntervalUnit(TimeUnit.SECONDS));
        net = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true).setConnectTimeout(30_000));
    }

    /** The transport of these connections ({@code epoll}, {@code nio}, ...). */
    public String transport() {
        return transportOf(vertx);
    }

    /**
     * The name of the transport a Vert.x instance runs on ({@code epoll}, {@code io_uring},
     * {@code nio}, {@code kqueue}), as the daemon's start-up line names its own.
     */
    public static String transportOf(Vertx vertx) {
        io.vertx.core.spi.transport.Transport running = ((VertxInternal) vertx).transport();
        for (Transport t : new Transport[] {Transport.EPOLL, Transport.IO_URING, Transport.KQUEUE, Transport.NIO}) {
            if (t != null && t.available() && t.implementation() == running) {
                return t.name();
            }
        }
        return running.getClass().getSimpleName();
    }

    /**
     * Dials {@code 127.0.0.1:port}, sends the gob CONNECT request (PROTOCOL.md §1.2) and completes once
     * the daemon answered {@code 200 Connected to Go RPC}.
     *
     * @return the upgraded connection; fails on a connect error or a refused handshake
     */
    public Future<WireConnection> connect(int port) {
        return net.connect(port, "127.0.0.1").compose(WireConnection::upgrade);
    }

    @Override
    public void close() {
        vertx.close().await();
    }
}
