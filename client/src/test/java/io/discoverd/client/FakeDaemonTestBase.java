package io.discoverd.client;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.time.Duration;

/**
 * Shared fixture for tests that drive a {@link DiscoverdClient} against a fresh {@link FakeDaemon}:
 * the daemon starts before each test, and the client a test assigns is closed before the daemon.
 */
abstract class FakeDaemonTestBase {

    protected FakeDaemon daemon;
    protected DiscoverdClient client;

    @BeforeEach
    void startDaemon() throws Exception {
        daemon = new FakeDaemon();
    }

    @AfterEach
    void stopClientAndDaemon() {
        if (client != null) {
            client.close();
        }
        daemon.close();
    }

    /** A client with short heartbeats and reconnect backoff, so failures show within a test's timeout. */
    protected DiscoverdClient connect(Duration callTimeout) throws DiscoverdException {
        return DiscoverdClient.builder().address(daemon.address()).heartbeatInterval(Duration.ofMillis(200))
                .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(100)).callTimeout(callTimeout).build();
    }
}
