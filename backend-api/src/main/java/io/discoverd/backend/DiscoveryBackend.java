package io.discoverd.backend;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * The store-neutral contract every backend meets (ARCHITECTURE.md, "The contract every backend
 * meets"). The backend owns the registration TTL.
 *
 * <p>Thread-safe. Every method returns at once and never blocks the caller's thread; failures
 * complete the stage exceptionally with a {@link DiscoveryException} whose message goes on the wire
 * ({@link DiscoveryException.StoreUnavailable} when the store cannot be reached).
 */
public interface DiscoveryBackend {

    /**
     * Creates or refreshes an instance, as in the original daemon's Register (PROTOCOL.md §5.3).
     * Absent: created with a new {@code created}, deadline now + TTL, online event. Present with the
     * same attrs: deadline now + TTL, no event (a heartbeat). Present with other attrs (nil and
     * empty differ): attrs replaced, same {@code created}, online event.
     *
     * @param name  service name; invalid names fail with {@link DiscoveryException.InvalidName}
     * @param addr  the expanded address; invalid ones fail with {@link DiscoveryException.InvalidAddr}
     * @param attrs attributes, {@code null} for nil
     * @return completes once the instance is in the store, with the instance (its {@code created})
     *         and what the call did
     */
    CompletionStage<Registration> register(String name, String addr, Map<String, String> attrs);

    /**
     * Removes an instance at once (PROTOCOL.md §5.4), with an offline event.
     *
     * @return completes once it is gone from the store; fails with
     *         {@link DiscoveryException.InstanceNotFound} when it is not live
     */
    CompletionStage<Void> unregister(String name, String addr);

    /**
     * Subscribes to a service: the current instances (any order), then exactly one
     * {@link SubscriptionListener#current()}, then every later change in store order, with no gap
     * and no duplicate between the two phases. The snapshot reflects every write acknowledged before
     * this call, through any daemon on the store (PROTOCOL.md §5.5.2, §5.7). An invalid name gets
     * {@code current()} only.
     *
     * @param listener called as {@link SubscriptionListener} describes
     * @return the handle; never {@code null}
     */
    Subscription subscribe(String name, SubscriptionListener listener);

    /**
     * The online instance with the smallest {@code created} (PROTOCOL.md §6.2), read with the same
     * read-your-writes guarantee as a snapshot.
     *
     * @return empty when the service has no online instance
     */
    CompletionStage<Optional<Instance>> leader(String name);

    /** Whether the store is connected now. Cheap; safe from any thread. */
    boolean isConnected();

    /** A short description of the store, for logs and {@code /health} (e.g. the connect string). */
    String describe();

    /**
     * Stops the backend for a daemon stop: releases threads and connections. Deadlines stop; what
     * happens to the store state is the backend's documented restart behaviour.
     *
     * @return completes when stopped; never fails
     */
    CompletionStage<Void> close();

    /**
     * Gives up everything this daemon holds at once, then stops the backend as {@link #close()}
     * does: for decommissioning a host (PROTOCOL.md §5.11 {@code POST /drain}), never for a restart.
     * Every instance registered through this daemon (and, on ZooKeeper, every instance whose store
     * session is this daemon's) goes offline at once for every subscriber, through any daemon
     * (PROTOCOL.md §6.4); on ZooKeeper this closes the session, so all its ephemeral nodes vanish and
     * no later start resumes it. Instances whose heartbeats then reach another daemon are registered
     * again there, with a new {@code created}.
     *
     * <p>Idempotent; after {@link #close()} it does nothing. Calls still in flight fail as they do
     * at {@link #close()}.
     *
     * @return completes when the store has been told and the backend is stopped; never fails
     */
    CompletionStage<Void> drain();
}
