package io.discoverd.client;

/**
 * The state of a {@link DiscoverdClient}'s connection to its daemon, as reported by
 * {@link DiscoverdClient#state()} and {@link DiscoverdClient#watchConnectionState}.
 */
public enum ConnectionState {
    /** Connected: calls go to the daemon, heartbeats run, service sets receive updates. */
    CONNECTED,
    /**
     * The daemon went away and the client is reconnecting in the background. Calls fail at once
     * with {@link DiscoverdException.Kind#DISCONNECTED}; heartbeats wait; service sets keep their
     * last known content and resubscribe once connected again.
     */
    DISCONNECTED,
    /** {@link DiscoverdClient#close()} was called. Final. */
    CLOSED
}
