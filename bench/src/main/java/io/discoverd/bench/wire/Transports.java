package io.discoverd.bench.wire;

import io.discoverd.server.config.NetTransport;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

/**
 * The bench's Vert.x instances (the load generator's, the raw jetcd client's) on the transport the
 * daemon under test runs on, as its start-up line names it: both sides of a comparison then pay
 * the same per read and write on the cores they share, whatever the daemon's {@code transport}
 * setting chose.
 *
 * <p>Stateless and thread-safe.
 */
public final class Transports {

    private Transports() {
    }

    /**
     * Builds Vert.x on the named transport, as the daemon does ({@link NetTransport#startVertx}).
     *
     * @param transport a transport name as the daemon logs it ({@code epoll}, {@code nio}, {@code io_uring})
     * @param options   the other options
     * @throws IllegalStateException when this JVM cannot run that transport (Vert.x would fall back
     *                               to NIO silently, and the comparison would not be like for like)
     */
    public static Vertx vertx(String transport, VertxOptions options) {
        try {
            return NetTransport.startVertx(NetTransport.parse("transport", transport).select(), options);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new IllegalStateException("the bench cannot run on the daemon's transport " + transport + ": "
                    + e.getMessage(), e);
        }
    }
}
