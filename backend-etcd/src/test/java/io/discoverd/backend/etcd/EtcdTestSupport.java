package io.discoverd.backend.etcd;

import io.discoverd.backend.BackendContext;
import io.discoverd.backend.DiscoveryBackend;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

/** Creates etcd backends through the provider, as the daemon does, for the module's tests. */
final class EtcdTestSupport {

    private EtcdTestSupport() {
    }

    /** The {@code etcd} config section for these endpoints (comma-separated) and prefix. */
    static JsonObject section(String endpoints, String prefix) {
        JsonArray list = new JsonArray();
        for (String e : endpoints.split(",")) {
            list.add(e);
        }
        return new JsonObject().put("endpoints", list).put("prefix", prefix).put("requestTimeout", "3s");
    }

    /** A prefix no other test uses, so tests on one etcd never see each other's keys. */
    static String uniquePrefix() {
        return "/discoverd-test-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** A backend ("daemon") on the store, created by the provider as the daemon creates it. */
    static DiscoveryBackend backend(Vertx vertx, JsonObject section, Duration ttl, Path dataDir) {
        return new EtcdBackendProvider().create(new BackendContext(vertx, section, ttl, dataDir));
    }
}
