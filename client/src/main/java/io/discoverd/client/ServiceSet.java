package io.discoverd.client;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A live view of one service's online instances, built from one subscription
 * ({@code Agent.Subscribe}, PROTOCOL.md §5.5), opened by {@link DiscoverdClient#serviceSet(String)}
 * or {@link DiscoverdClient#registerWithSet}.
 *
 * <p><b>Content.</b> A set is current when it is returned (the daemon's snapshot has arrived) and
 * then follows every change. If the connection drops it keeps its last known content; once the
 * client has reconnected it resubscribes and reconciles: instances that vanished meanwhile are
 * reported offline, new instances and instances whose attributes or {@code created} changed are
 * reported online, unchanged ones are not reported at all.
 *
 * <p><b>Self.</b> A set opened by {@link DiscoverdClient#registerWithSet} knows the caller's own
 * instance ({@link #selfAddr()}): it is left out of {@link #services()}, {@link #addrs()} and
 * {@link #select(Map)}, but it takes part in {@link #leader()} and it is reported to
 * {@link #watch} listeners.
 *
 * <p><b>Views.</b> {@link #filter(Map)} returns a view restricted to instances with given
 * attributes; it shares this set's subscription. Closing a view cancels the listeners registered
 * through it; closing the set closes the subscription and all its views.
 *
 * <p><b>Listeners</b> run on the client's listener threads, never on the connection's read thread:
 * each listener gets its events one at a time, in order, and a slow listener delays only itself
 * (see {@link DiscoverdClient.Builder#listenerQueueCapacity(int)} for the bound). A listener that
 * throws is logged and keeps its registration.
 *
 * <p>Thread-safe. All methods except {@link #close()} are local reads that never block on the network.
 */
public interface ServiceSet extends AutoCloseable {

    /** The service name. */
    String name();

    /** The caller's own address for a set opened by {@link DiscoverdClient#registerWithSet}, else empty. */
    Optional<String> selfAddr();

    /** The online instances (self excluded), oldest first ({@link ServiceInstance#BY_CREATED}). A snapshot copy. */
    List<ServiceInstance> services();

    /** The addresses of {@link #services()}, in the same order. */
    List<String> addrs();

    /**
     * The instances of {@link #services()} whose attributes include every entry of {@code attrs}
     * ({@link ServiceInstance#matches(Map)}), oldest first.
     */
    List<ServiceInstance> select(Map<String, String> attrs);

    /**
     * A view of this set holding only the instances whose attributes include every entry of
     * {@code attrs}. Its leader is the oldest matching instance; its watchers see an instance go
     * offline when it goes offline or when its attributes stop matching.
     */
    ServiceSet filter(Map<String, String> attrs);

    /**
     * The leader: the online instance with the smallest {@code created}, self included
     * (PROTOCOL.md §6.2); empty when the set holds no instance. Computed locally, so it works
     * against the original daemon too.
     */
    Optional<ServiceInstance> leader();

    /**
     * Registers a listener for the set's changes. Each event is one instance: {@code online} for a
     * new instance or changed attributes, offline ({@code online == false}) for one that is gone.
     *
     * @param bringCurrent first deliver every instance currently held (self included) as an online
     *                     event, oldest first, with no gap or duplicate before the live events
     * @param listener     called on a listener thread, never concurrently with itself
     * @return the handle that cancels the listener
     */
    ListenerHandle watch(boolean bringCurrent, Consumer<ServiceInstance> listener);

    /**
     * Registers a listener for the leader: it receives the current leader at once (empty when there
     * is none), then each new value when the leader changes (it went offline, or a set without a
     * leader got an instance). Only the newest value is queued: a slow listener skips intermediate
     * leaders but always ends with the current one.
     *
     * @param listener called on a listener thread, never concurrently with itself
     * @return the handle that cancels the listener
     */
    ListenerHandle watchLeader(Consumer<Optional<ServiceInstance>> listener);

    /**
     * Closes the set: stops its subscription (CloseStream, PROTOCOL.md §2.4, without waiting for
     * the daemon's answer) and cancels all its listeners. On a view, cancels only the view's
     * listeners. Idempotent; never throws. Does not unregister anything.
     */
    @Override
    void close();
}
