package io.discoverd.client;

import io.discoverd.protocol.ServiceUpdate;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The state behind a {@link ServiceSet} and its filtered views: the online instances of one
 * service (self included), kept current by one subscription per connection, and the listeners.
 *
 * <p>Stream items arrive on the connection's read thread; they only update the map and queue
 * events ({@link ListenerQueue#offer} never blocks) under {@link #lock}, so the read loop never
 * waits for a listener. Nothing is written to the socket while {@link #lock} is held.
 */
final class SetCore {

    /** A watch listener and the filter of the view it was registered through. */
    record Watcher(Map<String, String> filter, ListenerQueue<ServiceInstance> queue) {
    }

    /** A leader listener, its view's filter, and the last value it was given. */
    static final class LeaderWatcher {
        final Map<String, String> filter;
        final ListenerQueue<Optional<ServiceInstance>> queue;
        Optional<ServiceInstance> last;

        LeaderWatcher(Map<String, String> filter, ListenerQueue<Optional<ServiceInstance>> queue) {
            this.filter = filter;
            this.queue = queue;
        }
    }

    private final DiscoverdClient client;
    /** The error text of the last stream of this set that the daemon ended with a failure, or {@code null}. */
    volatile String endError;
    final String name;
    final String selfAddr;
    final Object lock = new Object();
    /** Online instances by address, self included. Guarded by {@link #lock}. */
    private final Map<String, ServiceInstance> instances = new HashMap<>();
    private final List<Watcher> watchers = new ArrayList<>();
    private final List<LeaderWatcher> leaderWatchers = new ArrayList<>();
    /** The subscription whose items count; {@code null} while disconnected. Guarded by {@link #lock}. */
    private Sub active;
    private boolean closed;
    /** Resubscriptions since the daemon last ended a stream uninvited; 0 once a stream is current again. */
    private int endedStreak;
    /** Completes at the first sentinel; fails if the set is closed or disconnected before. */
    final CompletableFuture<Void> firstCurrent = new CompletableFuture<>();
    /** Completes when the set is closed. */
    final CompletableFuture<Void> closedFuture = new CompletableFuture<>();

    SetCore(DiscoverdClient client, String name, String selfAddr) {
        this.client = client;
        this.name = name;
        this.selfAddr = selfAddr;
    }

    /** One Subscribe stream on one connection: its snapshot phase, then live updates. */
    final class Sub implements Connection.StreamHandler {
        final Connection conn;
        volatile long seq = -1;
        private boolean current;
        /** Completes when this stream is current (its snapshot reconciled) or can no longer be. */
        final CompletableFuture<Void> reconciled = new CompletableFuture<>();
        private final Map<String, ServiceInstance> snapshot = new HashMap<>();

        Sub(Connection conn) {
            this.conn = conn;
        }

        @Override
        public void onItem(ServiceUpdate u) {
            synchronized (lock) {
                if (active != this) {
                    return;
                }
                if (!current) {
                    if (u.isSentinel()) {
                        current = true;
                        endedStreak = 0;
                        apply(Change.reconcile(instances, snapshot));
                        snapshot.clear();
                        firstCurrent.complete(null);
                        reconciled.complete(null);
                    } else if (u.online()) {
                        snapshot.put(u.addr(), toInstance(u));
                    } else {
                        snapshot.remove(u.addr());
                    }
                    return;
                }
                if (u.isSentinel()) {
                    return; // only one per stream; tolerate a server that repeats it
                }
                if (u.online()) {
                    ServiceInstance after = toInstance(u);
                    ServiceInstance before = instances.get(u.addr());
                    apply(List.of(new Change(before, after)));
                } else if (instances.containsKey(u.addr())) {
                    apply(List.of(new Change(instances.get(u.addr()), null)));
                }
            }
        }

        @Override
        public void onEnd(String error) {
            if (error != null && !error.isEmpty() && !"EOS".equals(error)) {
                endError = error;
            }
            int streak;
            synchronized (lock) {
                reconciled.complete(null);
                if (active != this) {
                    return;
                }
                active = null;
                streak = endedStreak++;
            }
            client.streamEnded(SetCore.this, conn, error, streak);
        }
    }

    static ServiceInstance toInstance(ServiceUpdate u) {
        return new ServiceInstance(u.name(), u.addr(), u.attrs(), u.created(), true);
    }

    /**
     * Subscribes on {@code conn} unless this set is closed or already subscribed there. The
     * snapshot is reconciled with the held instances at its sentinel.
     *
     * @return completes once the set is current on {@code conn}, or can no longer become so (closed,
     *         stream ended, connection lost)
     * @throws DiscoverdException {@code DISCONNECTED} when the connection is closed
     */
    CompletableFuture<Void> subscribe(Connection conn) throws DiscoverdException {
        Sub s;
        synchronized (lock) {
            if (closed) {
                return CompletableFuture.completedFuture(null);
            }
            if (active != null && active.conn == conn) {
                return active.reconciled;
            }
            s = new Sub(conn);
            active = s;
        }
        long seq = conn.subscribe(name, s);
        boolean orphan;
        synchronized (lock) {
            s.seq = seq;
            orphan = active != s;
        }
        if (orphan) {
            conn.closeStream(seq); // closed or replaced while the request was being written
            s.reconciled.complete(null);
        }
        return s.reconciled;
    }

    /** The connection dropped: keep the content, wait for {@link #subscribe} on the next one. */
    void connectionLost(Connection conn, DiscoverdException why) {
        synchronized (lock) {
            if (active != null && active.conn == conn) {
                active.reconciled.complete(null);
                active = null;
            }
        }
        firstCurrent.completeExceptionally(why);
    }

    /** Applies changes and queues the events and leader changes they cause. Holds {@link #lock}. */
    private void apply(List<Change> changes) {
        if (changes.isEmpty()) {
            return;
        }
        // Copies: a queue that overflows closes itself, which unlinks it from these lists.
        List<Watcher> ws = List.copyOf(watchers);
        List<LeaderWatcher> lws = List.copyOf(leaderWatchers);
        for (Change c : changes) {
            if (c.after() != null) {
                instances.put(c.after().addr(), c.after());
            } else {
                instances.remove(c.before().addr());
            }
            for (Watcher w : ws) {
                ServiceInstance ev = c.eventFor(w.filter());
                if (ev != null) {
                    w.queue().offer(ev);
                }
            }
        }
        for (LeaderWatcher w : lws) {
            Optional<ServiceInstance> now = Change.leader(instances.values(), w.filter);
            if (!Change.sameLeader(now, w.last)) {
                w.last = now;
                w.queue.offer(now);
            }
        }
    }

    /** Online instances matching {@code filter}, self excluded, oldest first. */
    List<ServiceInstance> services(Map<String, String> filter) {
        synchronized (lock) {
            List<ServiceInstance> out = new ArrayList<>();
            for (ServiceInstance i : instances.values()) {
                if (!i.addr().equals(selfAddr) && i.matches(filter)) {
                    out.add(i);
                }
            }
            out.sort(ServiceInstance.BY_CREATED);
            return out;
        }
    }

    Optional<ServiceInstance> leader(Map<String, String> filter) {
        synchronized (lock) {
            return Change.leader(instances.values(), filter);
        }
    }

    ListenerQueue<ServiceInstance> watch(Map<String, String> filter, boolean bringCurrent, ListenerQueue<ServiceInstance> q) {
        synchronized (lock) {
            if (closed) {
                q.close();
                return q;
            }
            Watcher w = new Watcher(filter, q);
            watchers.add(w);
            q.onClose(() -> {
                synchronized (lock) {
                    watchers.remove(w);
                }
            });
            if (bringCurrent) {
                List<ServiceInstance> current = new ArrayList<>();
                for (ServiceInstance i : instances.values()) {
                    if (i.matches(filter)) {
                        current.add(i);
                    }
                }
                current.sort(ServiceInstance.BY_CREATED);
                current.forEach(q::offer);
            }
        }
        return q;
    }

    ListenerQueue<Optional<ServiceInstance>> watchLeader(Map<String, String> filter, ListenerQueue<Optional<ServiceInstance>> q) {
        synchronized (lock) {
            if (closed) {
                q.close();
                return q;
            }
            LeaderWatcher w = new LeaderWatcher(filter, q);
            w.last = Change.leader(instances.values(), filter);
            leaderWatchers.add(w);
            q.onClose(() -> {
                synchronized (lock) {
                    leaderWatchers.remove(w);
                }
            });
            q.offer(w.last);
        }
        return q;
    }

    boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /** Ends the subscription and every listener. Idempotent. */
    void close() {
        Sub s;
        List<ListenerHandle> queues = new ArrayList<>();
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            s = active;
            active = null;
            watchers.forEach(w -> queues.add(w.queue()));
            leaderWatchers.forEach(w -> queues.add(w.queue));
        }
        if (s != null) {
            s.reconciled.complete(null);
            if (s.seq >= 0) {
                s.conn.closeStream(s.seq);
            }
        }
        queues.forEach(ListenerHandle::close);
        client.forget(this);
        firstCurrent.completeExceptionally(DiscoverdException.of(DiscoverdException.Kind.CLOSED,
                "discoverd: service set " + name + " closed"));
        closedFuture.complete(null);
    }

    /** For tests: the held instances, self included. */
    Collection<ServiceInstance> held() {
        synchronized (lock) {
            return List.copyOf(instances.values());
        }
    }
}
