package io.discoverd.backend.memory;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Instance;
import io.discoverd.backend.Registration;
import io.discoverd.backend.Subscription;
import io.discoverd.backend.SubscriptionListener;
import io.discoverd.backend.Validation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The reference backend for tests: the whole contract of {@link DiscoveryBackend} held in memory,
 * with no store. All state lives on one scheduler thread, so every change is totally ordered and
 * each subscription's snapshot-and-attach is atomic; listeners are called on that thread.
 *
 * <p>Thread-safe. {@link #setConnected(boolean)} simulates a store outage: while disconnected,
 * register (new or changed) and unregister fail with {@link DiscoveryException.StoreUnavailable};
 * heartbeats still succeed, as on ZooKeeper.
 */
public final class InMemoryBackend implements DiscoveryBackend {

    private final Duration ttl;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "in-memory-backend");
        t.setDaemon(true);
        return t;
    });
    /** Service name → addr → entry; touched only on {@link #loop}. */
    private final Map<String, Map<String, Entry>> services = new HashMap<>();
    /** Service name → live subscriptions; touched only on {@link #loop}. */
    private final Map<String, List<Sub>> subscribers = new HashMap<>();
    private long lastCreated;
    private volatile boolean connected = true;
    /** {@link #holdSnapshotEnds}; {@code null}: no hold. */
    private volatile CountDownLatch snapshotEndGate;
    /** Every subscription ever opened and not closed, for tests that check release. */
    private final CopyOnWriteArrayList<Sub> open = new CopyOnWriteArrayList<>();

    /** @param registrationTtl the registration TTL (10 s in production) */
    public InMemoryBackend(Duration registrationTtl) {
        this.ttl = Objects.requireNonNull(registrationTtl);
    }

    private static final class Entry {
        Instance instance;
        ScheduledFuture<?> expiry;
    }

    private final class Sub implements Subscription {
        final String name;
        final SubscriptionListener listener;
        final AtomicBoolean closed = new AtomicBoolean();

        Sub(String name, SubscriptionListener listener) {
            this.name = name;
            this.listener = listener;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                open.remove(this);
                loop.execute(() -> {
                    List<Sub> subs = subscribers.get(name);
                    if (subs != null) {
                        subs.remove(this);
                    }
                });
            }
        }
    }

    /** Simulates the store going away ({@code false}) and coming back ({@code true}). */
    public void setConnected(boolean connected) {
        this.connected = connected;
    }

    /** Number of subscriptions opened and not yet closed. */
    public int openSubscriptions() {
        return open.size();
    }

    private <T> CompletionStage<T> onLoop(Supplier<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                result.complete(work.get());
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    @Override
    public CompletionStage<Registration> register(String name, String addr, Map<String, String> attrs) {
        return onLoop(() -> {
            Validation.checkName(name);
            Validation.checkAddr(addr);
            Map<String, Entry> instances = services.computeIfAbsent(name, k -> new LinkedHashMap<>());
            Entry entry = instances.get(addr);
            Registration.Outcome outcome;
            if (entry != null && Objects.equals(entry.instance.attrs(), attrs)) {
                outcome = Registration.Outcome.REFRESHED;
            } else {
                if (!connected) {
                    throw new DiscoveryException.StoreUnavailable("in-memory store disconnected");
                }
                if (entry == null) {
                    entry = new Entry();
                    entry.instance = new Instance(name, addr, attrs, ++lastCreated);
                    instances.put(addr, entry);
                    outcome = Registration.Outcome.CREATED;
                } else {
                    entry.instance = new Instance(name, addr, attrs, entry.instance.created());
                    outcome = Registration.Outcome.UPDATED;
                }
                Instance changed = entry.instance;
                forEachSub(name, s -> s.listener.online(changed));
            }
            if (entry.expiry != null) {
                entry.expiry.cancel(false);
            }
            Entry armed = entry;
            entry.expiry = loop.schedule(() -> expire(name, addr, armed), ttl.toMillis(), TimeUnit.MILLISECONDS);
            return new Registration(entry.instance, outcome);
        });
    }

    private void expire(String name, String addr, Entry entry) {
        Map<String, Entry> instances = services.get(name);
        if (instances != null && instances.get(addr) == entry) {
            instances.remove(addr);
            forEachSub(name, s -> s.listener.offline(name, addr));
        }
    }

    @Override
    public CompletionStage<Void> unregister(String name, String addr) {
        return onLoop(() -> {
            Validation.checkName(name);
            Validation.checkAddr(addr);
            if (!connected) {
                throw new DiscoveryException.StoreUnavailable("in-memory store disconnected");
            }
            Map<String, Entry> instances = services.get(name);
            Entry entry = instances == null ? null : instances.remove(addr);
            if (entry == null) {
                throw new DiscoveryException.InstanceNotFound("/memory/services/" + name + "/" + addr);
            }
            entry.expiry.cancel(false);
            forEachSub(name, s -> s.listener.offline(name, addr));
            return null;
        });
    }

    private void forEachSub(String name, java.util.function.Consumer<Sub> action) {
        for (Sub s : new ArrayList<>(subscribers.getOrDefault(name, List.of()))) {
            if (!s.closed.get()) {
                action.accept(s);
            }
        }
    }

    /**
     * Tests: from now on, a subscription's {@code current()} waits until {@code gate} opens (at
     * most 30 s), after its snapshot entries were delivered; the backend's one thread waits with it.
     * {@code null} lifts the hold.
     */
    public void holdSnapshotEnds(CountDownLatch gate) {
        snapshotEndGate = gate;
    }

    @Override
    public Subscription subscribe(String name, SubscriptionListener listener) {
        Sub sub = new Sub(name, listener);
        open.add(sub);
        loop.execute(() -> {
            if (sub.closed.get()) {
                return;
            }
            if (Validation.isValidSegment(name)) {
                for (Entry e : services.getOrDefault(name, Map.of()).values()) {
                    if (sub.closed.get()) {
                        return; // closed from inside a listener call: nothing more may start
                    }
                    listener.online(e.instance);
                }
                subscribers.computeIfAbsent(name, k -> new ArrayList<>()).add(sub);
            }
            CountDownLatch gate = snapshotEndGate;
            if (gate != null) {
                try {
                    gate.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (!sub.closed.get()) {
                listener.current();
            }
        });
        return sub;
    }

    @Override
    public CompletionStage<Optional<Instance>> leader(String name) {
        return onLoop(() -> services.getOrDefault(name, Map.of()).values().stream()
                .map(e -> e.instance)
                .min((a, b) -> Long.compareUnsigned(a.created(), b.created())));
    }

    @Override
    public boolean isConnected() {
        return connected;
    }

    @Override
    public String describe() {
        return "in-memory";
    }

    @Override
    public CompletionStage<Void> close() {
        loop.shutdownNow();
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Removes every instance at once, each with an offline event to the open subscriptions, then
     * stops as {@link #close()} does.
     */
    @Override
    public CompletionStage<Void> drain() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            loop.execute(() -> {
                for (Map.Entry<String, Map<String, Entry>> service : services.entrySet()) {
                    String name = service.getKey();
                    for (Map.Entry<String, Entry> e : service.getValue().entrySet()) {
                        e.getValue().expiry.cancel(false);
                        String addr = e.getKey();
                        forEachSub(name, s -> s.listener.offline(name, addr));
                    }
                }
                services.clear();
                loop.shutdownNow();
                done.complete(null);
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done.complete(null); // already stopped
        }
        return done;
    }
}
