package io.discoverd.backend.memory;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.contract.BackendContractTest;
import java.time.Duration;

/**
 * Runs the backend contract suite against the in-memory reference backend. It has no shared store,
 * so the cross-daemon tests are skipped.
 */
class InMemoryBackendContractTest extends BackendContractTest {

    @Override
    protected DiscoveryBackend newBackend(Duration registrationTtl) {
        return new InMemoryBackend(registrationTtl);
    }
}
