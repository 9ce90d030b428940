package io.discoverd.server;

import io.discoverd.backend.BackendContext;
import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryBackendProvider;
import io.discoverd.protocol.rpc.ServerCodecs;
import io.discoverd.server.config.DaemonConfig;
import io.discoverd.server.config.NetTransport;
import io.discoverd.server.http.FrontDoor;
import io.discoverd.server.rpc.Agent;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.deployment.Deployment;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.transport.Transport;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running discoverd: the locked data directory, the backend chosen by name, and the Vert.x
 * listener serving the wire protocol (ARCHITECTURE.md). {@link #start} returns once it listens;
 * {@link #close} stops it within a bounded time.
 *
 * <p>Thread-safe.
 */
public final class Daemon implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Daemon.class);

    /** How long {@link #start} waits for the listener to bind. */
    private static final Duration LISTEN_TIMEOUT = Duration.ofSeconds(30);
    /** How long each step of {@link #close} may take. */
    private static final Duration STOP_STEP_TIMEOUT = Duration.ofSeconds(5);

    private final DataDirLock lock;
    private final Vertx vertx;
    private final DiscoveryBackend backend;
    private final String deployment;
    private final Set<NetSocket> connections;
    private final int port;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);

    private Daemon(DataDirLock lock, Vertx vertx, DiscoveryBackend backend,
                   String deployment, Set<NetSocket> connections, int port) {
        this.lock = lock;
        this.vertx = vertx;
        this.backend = backend;
        this.deployment = deployment;
        this.connections = connections;
        this.port = port;
    }

    /**
     * Starts a daemon: locks the data directory, creates the backend through its provider, and
     * listens. The store need not be reachable: the daemon listens anyway and calls fail fast until
     * it is. Blocks the calling thread until listening; must not be called on an event loop.
     *
     * @param config the validated configuration
     * @return the running daemon
     * @throws DaemonStartException with exit code 2 when the backend is unknown or rejects its
     *                              section, or the transport named in the config cannot load on
     *                              this host ({@link NetTransport#select()}) or cannot start its
     *                              event loops; 1 when the data directory is locked or the port
     *                              cannot be bound
     */
    public static Daemon start(DaemonConfig config) throws DaemonStartException {
        DiscoveryBackendProvider provider = Backends.find(config.backend()).orElseThrow(() -> new DaemonStartException(
                "backend: no backend named '" + config.backend() + "' is installed (installed: "
                        + String.join(", ", Backends.installedNames()) + ")", 2, null));
        Transport transport;
        try {
            transport = config.transport().select();
        } catch (IllegalStateException e) {
            throw new DaemonStartException(e.getMessage(), 2, e);
        }
        DataDirLock lock = DataDirLock.acquire(config.dataDir());
        Vertx vertx = null;
        DiscoveryBackend backend = null;
        try {
            vertx = startVertx(config, transport);
            try {
                backend = provider.create(new BackendContext(vertx, config.backendConfig(), config.registrationTtl(),
                        config.dataDir()));
            } catch (IllegalArgumentException e) {
                throw new DaemonStartException("invalid " + config.backend() + " configuration: " + e.getMessage(), 2, e);
            } catch (RuntimeException e) {
                throw new DaemonStartException("cannot start the " + config.backend() + " backend: " + e, 1, e);
            }
            Agent agent = new Agent(backend, config.externalIp(), config.maxAttrsBytes());
            Set<NetSocket> connections = ConcurrentHashMap.newKeySet();
            int maxMessageBytes = config.maxMessageBytes();
            // The front door exists before the daemon it drains.
            java.util.concurrent.atomic.AtomicReference<Daemon> self = new java.util.concurrent.atomic.AtomicReference<>();
            Runnable drain = () -> {
                Daemon d = self.get();
                if (d != null) {
                    // drain() blocks: never on the event loop that answered the request.
                    Thread t = new Thread(d::drain, "discoverd-drain");
                    t.start();
                }
            };
            FrontDoor frontDoor = new FrontDoor(agent, backend, config.backend(),
                    codec -> ServerCodecs.create(codec, maxMessageBytes), config.subscriberQueueBytes(), connections,
                    drain);
            int port;
            String deployment;
            try {
                port = config.bind().port() == 0 ? freePort(config.bind().listenHost()) : config.bind().port();
                NetServerOptions options = new NetServerOptions()
                        .setHost(config.bind().listenHost())
                        .setPort(port)
                        .setTcpNoDelay(true);
                // One listener per event loop on the same port: Vert.x shares the socket and spreads
                // connections over the listeners. Each instance takes the loop group's next loop in
                // turn, so the instances land on distinct loops unless something else (a backend's
                // first Vert.x timer) takes a loop from the group during the deployment.
                deployment = vertx.deployVerticle(() -> new Listener(options, frontDoor),
                                new DeploymentOptions().setInstances(config.eventLoops()))
                        .toCompletionStage().toCompletableFuture()
                        .get(LISTEN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                throw new DaemonStartException("cannot listen on " + config.bind() + ": " + cause, 1, cause);
            }
            Daemon daemon = new Daemon(lock, vertx, backend, deployment, connections, port);
            self.set(daemon);
            log.info("discoverd listening on {}:{} (transport {}, event loops {}, backend {}: {}, data {}, externalIp {})",
                    config.bind().listenHost(), port, transport.name(), config.eventLoops(), config.backend(),
                    backend.describe(),
                    config.dataDir().toAbsolutePath().normalize(),
                    config.externalIp().isEmpty() ? "unset" : config.externalIp());
            return daemon;
        } catch (DaemonStartException | RuntimeException | Error e) {
            if (backend != null) {
                await(backend.close().toCompletableFuture());
            }
            if (vertx != null) {
                await(vertx.close());
            }
            lock.close();
            throw e;
        }
    }

    /**
     * Builds Vert.x on {@code transport}. Netty decides whether a native transport is available with
     * a small probe; the event loops' own rings and epoll instances are made here and can still fail
     * (a low {@code RLIMIT_MEMLOCK} for io_uring on older kernels, a low open-file limit), and Vert.x
     * falls back to NIO silently when handed a transport it cannot use: both stop the start.
     *
     * @throws DaemonStartException with exit code 2 when the event loops cannot be made on the
     *                              transport, or Vert.x runs on another one
     */
    private static Vertx startVertx(DaemonConfig config, Transport transport) throws DaemonStartException {
        Vertx vertx;
        try {
            // No file cache or class-path resolving: the daemon serves no files, and Vert.x's cache
            // directory (java.io.tmpdir/vertx-cache-*) outlives a daemon that is killed.
            vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(config.eventLoops())
                            .setFileSystemOptions(new FileSystemOptions().setClassPathResolvingEnabled(false)
                                    .setFileCachingEnabled(false)))
                    .withTransport(transport).build();
        } catch (RuntimeException e) {
            throw new DaemonStartException("transport: " + transport.name() + " cannot start its " + config.eventLoops()
                    + " event loops (eventLoops): " + e, 2, e);
        }
        if (((VertxInternal) vertx).transport() != transport.implementation()) {
            await(vertx.close());
            throw new DaemonStartException("transport: " + transport.name() + " was not taken by Vert.x", 2, null);
        }
        if (config.transport() == NetTransport.AUTO && transport == Transport.NIO) {
            log.warn("transport auto: using nio, because {}", NetTransport.autoFallbackReason());
        }
        return vertx;
    }

    /** The port actually bound (differs from the configured one when that is 0). */
    public int port() {
        return port;
    }

    /**
     * How many event-loop threads Vert.x has for client connections (the config's {@code eventLoops}),
     * read off its own loop group (tests). Thread-safe.
     */
    int eventLoops() {
        int n = 0;
        for (EventExecutor ignored : ((VertxInternal) vertx).nettyEventLoopGroup()) {
            n++;
        }
        return n;
    }

    /**
     * How many listener instances are deployed, and on how many distinct event loops they run, read
     * off Vert.x's deployment (tests: one listener per loop). Only while the daemon runs: after
     * {@link #close()} the deployment is gone. Thread-safe.
     *
     * @return {instances, distinct event loops}
     */
    int[] listenerPlacement() {
        Deployment d = ((VertxInternal) vertx).deploymentManager().deployment(deployment).deployment();
        long loops = d.contexts().stream().map(c -> ((ContextInternal) c).nettyEventLoop()).distinct().count();
        return new int[] {d.instances().size(), (int) loops};
    }

    /** The running backend. */
    public DiscoveryBackend backend() {
        return backend;
    }

    /** The number of open client connections (plain HTTP ones included). */
    public int openConnections() {
        return connections.size();
    }

    /**
     * Stops the daemon: stops accepting, closes every connection (their streams end at once),
     * closes the backend (which keeps or gives up store state as its restart behaviour says), and
     * closes Vert.x. Each step is bounded; idempotent; blocks until done. Not on an event loop.
     */
    @Override
    public void close() {
        stop(false);
    }

    /**
     * Drains the daemon ({@code POST /drain}, PROTOCOL.md §5.11): stops as {@link #close()} does,
     * but the backend gives up everything the daemon holds at once
     * ({@link DiscoveryBackend#drain()}: on ZooKeeper the session is closed, so every instance it
     * holds goes offline for every subscriber, and the next start begins a new session). For
     * decommissioning a host; a restart uses {@link #close()}. Idempotent with {@link #close()} (the
     * first of the two decides); blocks until done. Not on an event loop.
     */
    public void drain() {
        stop(true);
    }

    private void stop(boolean drain) {
        if (!closing.compareAndSet(false, true)) {
            awaitClosed();
            return;
        }
        log.info(drain ? "discoverd draining" : "discoverd stopping");
        try {
            await(vertx.undeploy(deployment)); // stops accepting
            for (NetSocket socket : List.copyOf(connections)) {
                socket.close();
            }
            // Sessions release their subscriptions in their close handlers: let them run before the
            // backend goes away, within the step's bound.
            long deadline = System.nanoTime() + STOP_STEP_TIMEOUT.toNanos();
            while (!connections.isEmpty() && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            await((drain ? backend.drain() : backend.close()).toCompletableFuture());
            await(vertx.close());
        } finally {
            lock.close();
            log.info("discoverd stopped");
            closed.countDown();
        }
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitClosed() {
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A free port for a configured port 0 (tests): every listener instance must bind the same
     * concrete port to share it, and Vert.x shares no port-0 listeners.
     */
    private static int freePort(String host) throws java.io.IOException {
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new java.net.InetSocketAddress(host, 0));
            return probe.getLocalPort();
        }
    }

    /** One instance of the listener, on its own event loop. */
    private static final class Listener extends VerticleBase {
        private final NetServerOptions options;
        private final FrontDoor frontDoor;

        Listener(NetServerOptions options, FrontDoor frontDoor) {
            this.options = options;
            this.frontDoor = frontDoor;
        }

        @Override
        public Future<?> start() {
            return vertx.createNetServer(options).connectHandler(frontDoor).listen();
        }
    }

    private static void await(Future<?> f) {
        await(f.toCompletionStage().toCompletableFuture());
    }

    private static void await(java.util.concurrent.CompletableFuture<?> f) {
        try {
            f.get(STOP_STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("stop step did not finish cleanly: {}", e.toString());
        }
    }
}
