package io.discoverd.bench.wire;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import java.util.concurrent.TimeUnit;

/**
 * The load generator's side of the wire: many light gob connections to a daemon on a few event-loop
 * threads (10,000 subscriber connections would need 20,000 threads with the blocking client library),
 * on the daemon's transport ({@link Transports}).
 *
 * <p>Thread-safe. {@link #close()} closes every connection it made.
 */
public final class WireClient implements AutoCloseable {

    private final Vertx vertx;
    private final NetClient net;

    /**
     * @param eventLoops event-loop threads for all connections (the load generator's share of the cores)
     * @param transport  the daemon's transport, as its start-up line names it ({@link Transports})
     */
    public WireClient(int eventLoops, String transport) {
        vertx = Transports.vertx(transport, new VertxOptions().setEventLoopPoolSize(eventLoops).setWorkerPoolSize(1)
                .setBlockedThreadCheckInterval(10).setBlockedThreadCheckIntervalUnit(TimeUnit.SECONDS));
        net = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true).setConnectTimeout(30_000));
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
