package io.discoverd.client;

/**
 * Cancels one listener registration ({@link ServiceSet#watch}, {@link ServiceSet#watchLeader},
 * {@link DiscoverdClient#watchConnectionState}).
 *
 * <p>After {@link #close()} returns, no new event is queued for the listener; at most the one
 * call already running on the listener's thread completes. Closing twice is harmless. Thread-safe.
 */
public interface ListenerHandle extends AutoCloseable {

    /** Stops delivery to the listener. Never throws. */
    @Override
    void close();

    /**
     * Whether the listener still receives events: {@code false} once closed by {@link #close()}, by
     * the closing of its set or client, or because it fell too far behind (see
     * {@link DiscoverdClient.Builder#listenerQueueCapacity(int)}).
     */
    boolean isActive();
}
