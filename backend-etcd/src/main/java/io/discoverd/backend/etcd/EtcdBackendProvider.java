package io.discoverd.backend.etcd;

import io.discoverd.backend.BackendContext;
import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryBackendProvider;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.impl.VertxThread;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.VertxThreadFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * The {@code etcd} backend ({@code backend: etcd} in {@code conf/discoverd.yaml}), found with
 * {@link java.util.ServiceLoader}.
 *
 * <p>Config section {@code etcd} (all optional):
 * <ul>
 *   <li>{@code endpoints}: list of client URLs (default {@code [http://127.0.0.1:2379]});</li>
 *   <li>{@code prefix}: key prefix of the store layout (default {@code /discoverd});</li>
 *   <li>{@code connectTimeout}: how long opening a connection to a member may take (default 5 s);</li>
 *   <li>{@code requestTimeout}: how long one store call may take (default 5 s);</li>
 *   <li>{@code user}, {@code password}: etcd authentication, both or neither;</li>
 *   <li>{@code tls}: {@code {caFile, certFile, keyFile}} PEM files (client certificate optional).</li>
 * </ul>
 *
 * <p>Thread-safe and stateless.
 */
public final class EtcdBackendProvider implements DiscoveryBackendProvider {

    /** Creates the provider; {@link java.util.ServiceLoader} needs this public constructor. */
    public EtcdBackendProvider() {
    }

    /** {@inheritDoc} Always {@code "etcd"}. */
    @Override
    public String name() {
        return "etcd";
    }

    /** Prefix of the store client's thread names, e.g. {@code discoverd-etcd-io-vert.x-eventloop-thread-0}. */
    static final String IO_THREAD_PREFIX = "discoverd-etcd-io-";

    /**
     * Creates the jetcd client on an event loop of its own ({@link #storeVertx}) and starts the
     * backend. Waits for the first reachability probe's answer (at most 2 s; an etcd that is down
     * answers at once) but never for etcd to come up: until it answers, calls fail fast with
     * {@link io.discoverd.backend.DiscoveryException.StoreUnavailable} naming the endpoints.
     *
     * @throws IllegalArgumentException when the section is invalid; the message names the field
     */
    @Override
    public DiscoveryBackend create(BackendContext context) {
        EtcdConfig cfg = EtcdConfig.parse(context.config());
        Vertx storeVertx = storeVertx(context.vertx());
        Client client = null;
        EtcdBackend backend = null;
        try {
            client = client(cfg, storeVertx);
            backend = new EtcdBackend(client, context.vertx(), storeVertx, cfg, context.registrationTtl());
            backend.start();
            return backend;
        } catch (RuntimeException | Error e) {
            // What was made so far goes: the backend's timers, pool and client, or the client; then the
            // Vert.x (a second close of it returns at once).
            try {
                if (backend != null) {
                    backend.close();
                } else if (client != null) {
                    client.close();
                }
            } catch (RuntimeException | Error t) {
                e.addSuppressed(t);
            } finally {
                storeVertx.close();
            }
            throw e;
        }
    }

    /**
     * The store client's own Vert.x instance: one event loop, on the daemon's network transport
     * (epoll, io_uring or NIO, as the daemon's {@code transport} setting chose), whose threads are
     * named {@value #IO_THREAD_PREFIX}…. jetcd's gRPC channel does all its I/O on that one loop, and
     * completes every store call and watch event there. On one of the daemon's own loops ({@code
     * eventLoops}, one per processor by default) it would share that thread with the client
     * connections Vert.x put on that loop (a connection keeps its loop for good): a fan-out's writes
     * or a busy client would hold up every store call of the daemon, and the reverse. ZooKeeper's
     * client has its own I/O thread in the same way. The reason is that isolation: in the bench's
     * scenarios 1 and 5 on etcd the move changed no figure beyond the run-to-run spread
     * ({@code docs/benchmarks.md}, eighth pass).
     *
     * <p>Closed by the jetcd client's close (jetcd closes the Vert.x it was given, without waiting);
     * the backend's close waits for its event loop to end. It resolves no class-path files and keeps
     * no file cache (no directory, no shutdown hook per instance).
     */
    static Vertx storeVertx(Vertx daemonVertx) {
        VertxThreadFactory named = new VertxThreadFactory() {
            @Override
            public VertxThread newVertxThread(Runnable target, String name, boolean worker, long maxExecTime,
                                              TimeUnit maxExecTimeUnit) {
                return VertxThreadFactory.INSTANCE.newVertxThread(target, IO_THREAD_PREFIX + name, worker, maxExecTime,
                        maxExecTimeUnit);
            }
        };
        return VertxBootstrap.create()
                .options(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1).setInternalBlockingPoolSize(1)
                        .setFileSystemOptions(new FileSystemOptions().setClassPathResolvingEnabled(false)
                                .setFileCachingEnabled(false)))
                .transport(((VertxInternal) daemonVertx).transport())
                .threadFactory(named)
                .init()
                .vertx();
    }

    private static Client client(EtcdConfig cfg, Vertx storeVertx) {
        ClientBuilder b = Client.builder()
                .endpoints(cfg.endpoints().toArray(String[]::new))
                .vertx(storeVertx)
                .connectTimeout(cfg.connectTimeout())
                // Fail fast while no member is reachable rather than queue calls until one is;
                // one short retry rides over a member that just went away.
                .waitForReady(false)
                .retryMaxAttempts(2)
                .retryDelay(50)
                .retryMaxDelay(200)
                // No limit on an answer's size, as etcd's Go client (clientv3: MaxCallRecvMsgSize is
                // math.MaxInt32): gRPC's default of 4 MiB would fail every read of a service of, say,
                // 80 instances with 60 KiB of attrs each, and every watch answer that large.
                .maxInboundMessageSize(Integer.MAX_VALUE);
        if (cfg.user() != null) {
            b.user(ByteSequence.from(cfg.user(), StandardCharsets.UTF_8))
                    .password(ByteSequence.from(cfg.password(), StandardCharsets.UTF_8));
        }
        if (cfg.usesTls()) {
            try {
                b.sslContext(ssl -> {
                    if (cfg.tls() != null && cfg.tls().caFile() != null) {
                        ssl.trustManager(cfg.tls().caFile().toFile());
                    }
                    if (cfg.tls() != null && cfg.tls().certFile() != null) {
                        ssl.keyManager(cfg.tls().certFile().toFile(), cfg.tls().keyFile().toFile());
                    }
                });
            } catch (SSLException | RuntimeException e) {
                throw new IllegalArgumentException("etcd.tls: " + e.getMessage(), e);
            }
        }
        return b.build();
    }
}
