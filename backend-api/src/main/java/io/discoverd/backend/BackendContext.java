package io.discoverd.backend;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What the daemon hands a backend when it creates it.
 *
 * @param vertx           the daemon's Vert.x instance: share it for timers and contexts. A store
 *                        client that does its network I/O on Vert.x gets an event loop of its own,
 *                        on this instance's transport ({@code VertxInternal.transport()}, Vert.x's
 *                        internal API), so that store traffic and client connections do not queue
 *                        behind each other on one thread (the etcd backend's jetcd client does)
 * @param config          the backend's own section of {@code conf/discoverd.yaml} (e.g. the
 *                        {@code zookeeper} map), never {@code null}, empty when absent
 * @param registrationTtl the registration TTL ({@code registrationTtl}, default 10 s)
 * @param dataDir         the daemon's own data directory (exists, locked by the daemon)
 */
public record BackendContext(Vertx vertx, JsonObject config, Duration registrationTtl, Path dataDir) {

    public BackendContext {
        Objects.requireNonNull(vertx, "vertx");
        config = config == null ? new JsonObject() : config;
        Objects.requireNonNull(registrationTtl, "registrationTtl");
        Objects.requireNonNull(dataDir, "dataDir");
    }
}
