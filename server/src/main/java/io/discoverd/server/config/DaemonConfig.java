package io.discoverd.server.config;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The daemon's validated configuration: {@code conf/discoverd.yaml} with the {@code --bind} flag and
 * the {@code EXTERNAL_IP} environment variable applied ({@link ConfigLoader} builds it).
 *
 * <p>Immutable and thread-safe ({@link #backendConfig()} returns a copy).
 *
 * @param bind                 where to listen ({@code bind}, default {@code :1111})
 * @param externalIp           the host that prefixes a port-only {@code Addr} (PROTOCOL.md §5.2);
 *                             {@code ""} for none, never {@code null}
 * @param backend              the backend provider's name ({@code backend}, default {@code zookeeper})
 * @param registrationTtl      the registration TTL ({@code registrationTtl}, default 10 s)
 * @param dataDir              the daemon's own data directory ({@code dataDir}, default
 *                             {@code data/<bind port>}, relative to the working directory)
 * @param maxMessageBytes      the largest RPC message accepted, in bytes ({@code maxMessageBytes},
 *                             default 1 MiB, PROTOCOL.md §3.9); a larger one closes the connection
 * @param maxAttrsBytes        the largest {@code Attrs} accepted by Register, in UTF-8 bytes of keys
 *                             and values ({@code maxAttrsBytes}, default 64 KiB)
 * @param subscriberQueueBytes how many bytes may wait unsent on one connection before the daemon
 *                             closes it as a slow reader ({@code subscriberQueueBytes}, default 8 MiB)
 * @param transport            the network transport ({@code transport}, default {@link NetTransport#AUTO})
 * @param eventLoops           how many event-loop threads serve client connections ({@code eventLoops},
 *                             default {@link #defaultEventLoops()}: one per processor); 1 to
 *                             {@value #MAX_EVENT_LOOPS}
 * @param backendConfig        the backend's own section (the map named like {@code backend}),
 *                             passed to the provider untouched; empty when absent
 */
public record DaemonConfig(BindAddress bind, String externalIp, String backend, Duration registrationTtl,
                           Path dataDir, int maxMessageBytes, int maxAttrsBytes, int subscriberQueueBytes,
                           NetTransport transport, int eventLoops, JsonObject backendConfig) {

    /** Default backend provider name. */
    public static final String DEFAULT_BACKEND = "zookeeper";
    /** Default registration TTL (PROTOCOL.md §5.6). */
    public static final Duration DEFAULT_TTL = Duration.ofSeconds(10);
    /** Default message size limit, bytes. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;
    /** Default attributes size limit, bytes. */
    public static final int DEFAULT_MAX_ATTRS_BYTES = 64 << 10;
    /** Default outbound bound per connection, bytes. */
    public static final int DEFAULT_SUBSCRIBER_QUEUE_BYTES = 8 << 20;
    /**
     * The most event loops a config may ask for: far above any core count the daemon is run on, low
     * enough that a typo (an extra digit or two) is refused instead of starting thousands of threads.
     */
    public static final int MAX_EVENT_LOOPS = 1024;

    public DaemonConfig {
        Objects.requireNonNull(bind, "bind");
        externalIp = externalIp == null ? "" : externalIp;
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(registrationTtl, "registrationTtl");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(transport, "transport");
        backendConfig = backendConfig == null ? new JsonObject() : backendConfig.copy();
    }

    /**
     * The default number of event loops: one per processor the JVM sees
     * ({@link Runtime#availableProcessors()}, which follows a container's CPU limit). Not Vert.x's
     * default of two per processor: the daemon never blocks an event loop, and a second loop per core
     * adds thread switches (the bench's heartbeat runs took less daemon CPU per heartbeat with one
     * loop per core, {@code docs/benchmarks.md}, ninth pass).
     */
    public static int defaultEventLoops() {
        return Math.max(1, Math.min(MAX_EVENT_LOOPS, Runtime.getRuntime().availableProcessors()));
    }

    /** The default data directory for a bind address: {@code data/<port>}. */
    public static Path defaultDataDir(BindAddress bind) {
        return Path.of("data", Integer.toString(bind.port()));
    }

    @Override
    public JsonObject backendConfig() {
        return backendConfig.copy();
    }
}
