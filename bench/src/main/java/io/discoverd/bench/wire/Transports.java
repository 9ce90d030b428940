package io.discoverd.bench.wire;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.transport.Transport;

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
     * Builds Vert.x on the named transport.
     *
     * @param transport a Vert.x transport name as the daemon logs it ({@code epoll}, {@code nio}, ...)
     * @param options   the other options; its file-system options are replaced (no file cache, no class-path resolving)
     * @throws IllegalStateException when this JVM cannot run that transport (Vert.x would fall back
     *                               to NIO silently, and the comparison would not be like for like)
     */
    public static Vertx vertx(String transport, VertxOptions options) {
        Transport t = null;
        for (Transport known : new Transport[] {Transport.NIO, Transport.EPOLL, Transport.IO_URING, Transport.KQUEUE}) {
            if (known != null && known.name().equals(transport)) {
                t = known;
            }
        }
        if (t == null || !t.available()) {
            throw new IllegalStateException("the bench cannot run on the daemon's transport " + transport
                    + (t == null ? "" : ": " + t.unavailabilityCause()));
        }
        // No file cache (java.io.tmpdir/vertx-cache-*, left behind by a killed run): the bench reads no files through Vert.x.
        options.setFileSystemOptions(new FileSystemOptions().setClassPathResolvingEnabled(false).setFileCachingEnabled(false));
        Vertx vertx = Vertx.builder().with(options).withTransport(t).build();
        if (((VertxInternal) vertx).transport() != t.implementation()) {
            vertx.close();
            throw new IllegalStateException("Vert.x did not take the daemon's transport " + transport);
        }
        return vertx;
    }
}
