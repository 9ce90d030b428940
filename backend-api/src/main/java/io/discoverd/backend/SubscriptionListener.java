package io.discoverd.backend;

/**
 * Receives one subscription's events: the snapshot, then exactly one {@link #current()}, then live
 * changes in store order (ARCHITECTURE.md, "The contract every backend meets").
 *
 * <p>A backend calls one listener from one thread at a time and in order (never concurrently),
 * possibly on a store thread, and each call happens-before the next (a backend that moves delivery
 * between threads does so through a lock, a compare-and-set such as {@link GuardedSubscription}'s,
 * or a sequential executor): a listener may keep plain fields that only its calls touch.
 * Implementations must not block, and hop to their own context before touching connection state.
 * No call follows {@link Subscription#close()} returning, nor {@link #failed}.
 */
public interface SubscriptionListener {

    /** An instance is online: a snapshot entry, a new instance, or changed attributes (same {@code created}). */
    void online(Instance instance);

    /** An instance went away (unregistered or expired). */
    void offline(String name, String addr);

    /** The snapshot is complete (the sentinel); called exactly once per subscription, also when it was empty. */
    void current();

    /**
     * The backend can no longer keep this subscription gap-free and gave up (PROTOCOL.md §5.5.4).
     * Backends should prefer resynchronising (emitting the differences as online/offline calls).
     * If the failure comes before {@link #current()}, {@link #current()} is called first.
     *
     * @param cause what went wrong; its message goes on the wire as the final frame's error
     */
    void failed(DiscoveryException cause);
}
