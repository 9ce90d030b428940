package io.discoverd.backend.memory;

import io.discoverd.backend.BackendContext;
import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryBackendProvider;

/** Provides {@link InMemoryBackend} as {@code backend: memory}, for the daemon's own tests only. */
public final class InMemoryBackendProvider implements DiscoveryBackendProvider {

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public DiscoveryBackend create(BackendContext context) {
        return new InMemoryBackend(context.registrationTtl());
    }
}
