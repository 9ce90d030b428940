package io.discoverd.backend;

/**
 * Creates a backend by the name chosen in {@code conf/discoverd.yaml} ({@code backend: zookeeper}).
 * Implementations are found with {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.discoverd.backend.DiscoveryBackendProvider}) and need a public
 * no-argument constructor.
 */
public interface DiscoveryBackendProvider {

    /** The name in the config file's {@code backend} field, and of the backend's config section. */
    String name();

    /**
     * Creates and starts a backend. May block the calling (start-up) thread briefly, e.g. to start
     * an embedded server, but must not wait for the store: the daemon starts and listens while the
     * store is unreachable, and calls fail fast until it connects.
     *
     * @throws IllegalArgumentException when the config section is invalid; the message names the field
     */
    DiscoveryBackend create(BackendContext context);
}
