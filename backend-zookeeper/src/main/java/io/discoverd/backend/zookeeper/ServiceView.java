package io.discoverd.backend.zookeeper;

import io.discoverd.backend.GuardedSubscription;
import io.discoverd.backend.Instance;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This daemon's view of one watched service: addr → (instance, czxid, mzxid), fed by ONE
 * persistent recursive watch on {@code <root>/services/<name>} (Curator's {@link PersistentWatcher},
 * which sets it again after a reconnection or a new session) with a read of each node it reports, by
 * a first load of the whole service, by this daemon's own acknowledged writes, and by barrier reads;
 * it emits to its subscribers exactly the differences it applies.
 *
 * <p>Why not Curator's {@code CuratorCache}: its first load reads every node with its own
 * {@code getData} (and {@code getChildren}), 5,000 nodes in about a second; this view loads a service
 * with read-only multis of {@link AsyncZk#READ_CHUNK} nodes (tens of ms). And the cache calls its
 * listeners later, on another thread, after filling its storage on the event thread, so neither its
 * storage nor its listener alone gives a gap-free, duplicate-free snapshot (notes/zookeeper.md,
 * "Traps").
 *
 * <p>Order: watch events and read answers arrive on the ZooKeeper event thread in the order the
 * server processed them, and each is handed to the service's executor there, in that order; so the
 * view applies its own feed in the store's order: a read answered before a deletion is applied before
 * it, one answered after finds the node gone or a newer incarnation.
 *
 * <p>Ordering rules that keep late or repeated information (own writes and barrier reads, applied
 * after later events) from resurrecting or duplicating anything: an incarnation of a node is
 * identified by its czxid and its content by its mzxid; an observation older than what the view holds
 * is ignored, and the highest deleted czxid of each address is remembered (a tombstone), so a late
 * observation of a deleted incarnation is ignored. A delete event names no incarnation (Curator
 * 5.9's watcher wrapper drops the event's zxid): it deletes the one the view holds, which, as every
 * read is applied in the store's order, is the one deleted.
 *
 * <p>Tombstones do not outlive their use (else the view grows by one per address ever deleted).
 * Stale information about a deleted incarnation can come only from (a) an answer that reached the
 * event thread before the deletion's event but the executor after it: once the answer to a request
 * sent after the deletion became known has been handed over, none is left; (b) a barrier read issued
 * before the deletion: kept while a barrier that started before it is in flight. A tombstone is
 * dropped when both hold, or at once when a later incarnation of the address is observed (the entry's
 * czxid then guards it).
 *
 * <p>Confinement: every method except the constructor runs on the service's sequential executor.
 */
final class ServiceView {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceView.class);

    /**
     * One instance as the view holds it: the {@link Instance} handed to subscribers (made once per
     * observed change, so a snapshot hands out the held objects and copies no attributes), and the
     * czxid and mzxid of the node it was read from.
     */
    record Entry(Instance instance, long czxid, long mzxid) {

        /** The instance's attributes ({@code null} for nil). */
        Map<String, String> attrs() {
            return instance.attrs();
        }

        /** The instance's {@code Created}. */
        long created() {
            return instance.created();
        }
    }

    /** The highest deleted czxid of an address, and the {@link #tick} at which it was written. */
    private record Tomb(long czxid, long tick) {
    }

    private final String name;
    private final String servicePath;
    private final Executor executor;
    private final PersistentWatcher watcher;
    private final AsyncZk zk;
    private final Map<String, Entry> entries = new HashMap<>();
    private final Map<String, Tomb> tombstones = new HashMap<>();
    /** Start ticks of the barriers in flight (a multiset: tick → count). */
    private final java.util.TreeMap<Long, Integer> barriers = new java.util.TreeMap<>();
    /** Logical clock of deletions: bumped by each tombstone written. */
    private long tick;
    private boolean pruneQueued;
    private final List<GuardedSubscription> attached = new ArrayList<>();
    private final List<GuardedSubscription> pending = new ArrayList<>();
    private boolean closed;
    /**
     * Whether the view holds the whole service as of some moment on the current connection: its
     * first load succeeded, or a full barrier read has been applied since ({@link #barrierApplied}).
     */
    private boolean complete;
    /** How often the watch has been set (see {@link #watchSet}). */
    private int watchSets;
    private final Consumer<ServiceView> onWatchSetAgain;
    /** Completes (on the executor) once the first load has been applied, or has failed; see {@link #loaded()}. */
    private final CompletableFuture<Boolean> loaded = new CompletableFuture<>();

    /**
     * Starts the view: sets the watch, then (its request sent first, so it is in place before they
     * are answered) lists and reads the service. Call on the service's executor.
     */
    ServiceView(String name, String servicePath, CuratorFramework client, AsyncZk zk, Executor executor,
                Consumer<ServiceView> onWatchSetAgain) {
        this.name = name;
        this.servicePath = servicePath;
        this.executor = executor;
        this.zk = zk;
        this.onWatchSetAgain = onWatchSetAgain;
        this.watcher = new PersistentWatcher(client, servicePath, true);
        watcher.getListenable().addListener(this::onWatchEvent);
        watcher.getResetListenable().addListener(() -> execute(this::watchSet));
        watcher.start();
        load();
    }

    /**
     * The watch has been set (Curator's {@code PersistentWatcher} sets it again after every
     * reconnection, and in a new session after an expiry). The first time, before the first load is
     * answered, the load follows it. Any later time, changes may have gone unreported since the watch
     * was lost: the view is no longer complete, and {@code onWatchSetAgain} (the backend's full
     * barrier read) runs with this view, after the watch is in place, so nothing falls between the two.
     */
    private void watchSet() {
        if (closed) {
            return;
        }
        if (++watchSets == 1 && !loaded.isDone()) {
            return;
        }
        complete = false;
        onWatchSetAgain.accept(this);
    }

    /** Whether the view holds the whole service (see {@link #complete}); on the executor. */
    boolean isComplete() {
        return complete;
    }

    /** A full barrier read of the service has been applied: the view is complete again. */
    void barrierApplied() {
        complete = true;
    }

    /**
     * The first load: the children, then their data in read-only multis; each answer is handed to the
     * executor from the event thread as it arrives (in order with the watch's events), and
     * {@link #loaded} completes after the last one: {@code true} when every node was read (or found
     * gone), {@code false} when a read failed.
     */
    private void load() {
        boolean[] failed = {false};
        zk.getChildren(servicePath).thenCompose(ev -> {
            Code code = AsyncZk.code(ev);
            if (code == Code.NONODE) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            if (code != Code.OK) {
                return CompletableFuture.<Void>failedFuture(new IllegalStateException(code + " listing " + servicePath));
            }
            return zk.readChildren(servicePath, ev.getChildren(), reads -> execute(() -> {
                for (AsyncZk.ChildRead r : reads) {
                    if (r.code() == Code.OK) {
                        observed(r.child(), r.stat(), r.data());
                    } else if (r.code() != Code.NONODE) {
                        failed[0] = true; // the executor's task order makes this visible to the completion below
                    }
                }
            }));
        }).whenComplete((x, e) -> {
            if (e != null) {
                LOG.debug("{}: first load failed; a barrier read will fill the view", servicePath, e);
            }
            execute(() -> {
                complete = e == null && !failed[0];
                loaded.complete(complete);
            });
        });
    }

    private String addrOf(String path) {
        if (path == null || path.length() <= servicePath.length() + 1 || !path.startsWith(servicePath + "/")) {
            return null;
        }
        String rest = path.substring(servicePath.length() + 1);
        return rest.indexOf('/') >= 0 ? null : rest;
    }

    /**
     * A watch event, on the ZooKeeper event thread: a create or data change of an instance node is read
     * (its answer handed over in order); a delete is handed over as it comes.
     */
    private void onWatchEvent(WatchedEvent event) {
        String addr = addrOf(event.getPath());
        if (addr == null) {
            return;
        }
        switch (event.getType()) {
            case NodeCreated, NodeDataChanged -> zk.getData(event.getPath()).thenAccept(ev -> {
                // NONODE: deleted since, and its event comes next. An error: the connection went,
                // and the view is read again (resync) once it is back.
                if (AsyncZk.code(ev) == Code.OK) {
                    execute(() -> observed(addr, ev.getStat(), ev.getData()));
                }
            });
            case NodeDeleted -> execute(() -> deletedByEvent(addr));
            default -> {
            }
        }
    }

    /** A delete event: the incarnation the view holds is the one deleted (reads are applied in order). */
    void deletedByEvent(String addr) {
        Entry held = entries.get(addr);
        if (held != null) {
            deleted(addr, held.czxid());
        }
    }

    /** Hops onto the executor; after the backend's close the pool refuses, and there is nothing left to do. */
    private void execute(Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            LOG.debug("{}: executor closed, dropping a watch event or read", servicePath);
        }
    }

    /**
     * Applies an observation of a node's state (watch read, own write acknowledged, barrier read).
     * Emits online when (attrs, created) differ from what the view had.
     */
    void observed(String addr, Stat stat, byte[] data) {
        if (closed) {
            return;
        }
        Tomb tomb = tombstones.get(addr);
        if (tomb != null && stat.getCzxid() <= tomb.czxid()) {
            return;
        }
        Entry old = entries.get(addr);
        if (old != null && (stat.getCzxid() < old.czxid()
                || (stat.getCzxid() == old.czxid() && stat.getMzxid() <= old.mzxid()))) {
            return;
        }
        StoredInstance si = StoredInstance.parse(data);
        if (si == null) {
            LOG.warn("ignoring {}/{}: its data is not an instance", servicePath, addr);
            return;
        }
        boolean changed = old == null || old.created() != si.created() || !Objects.equals(old.attrs(), si.attrs());
        // An unchanged instance keeps its object: a later snapshot hands out the one already handed out.
        Instance instance = changed ? new Instance(name, addr, si.attrs(), si.created()) : old.instance();
        entries.put(addr, new Entry(instance, stat.getCzxid(), stat.getMzxid()));
        if (tomb != null) {
            tombstones.remove(addr); // the entry's larger czxid now keeps older incarnations out
        }
        if (changed) {
            for (GuardedSubscription s : List.copyOf(attached)) {
                s.online(instance);
            }
        }
    }

    /** Applies the deletion of the incarnation {@code czxid} (and any older one) of {@code addr}. */
    void deleted(String addr, long czxid) {
        if (closed) {
            return;
        }
        Tomb tomb = tombstones.get(addr);
        if (tomb == null || tomb.czxid() < czxid) {
            tombstones.put(addr, new Tomb(czxid, ++tick));
            queuePrune();
        }
        Entry old = entries.get(addr);
        if (old != null && old.czxid() <= czxid) {
            entries.remove(addr);
            for (GuardedSubscription s : List.copyOf(attached)) {
                s.offline(name, addr);
            }
        }
    }

    /**
     * Marks the start of a barrier whose reads will be applied here: tombstones written from now on
     * stay until {@link #barrierEnded} (its reads may predate those deletions).
     *
     * @return the token to pass to {@link #barrierEnded}
     */
    long barrierStarted() {
        barriers.merge(tick, 1, Integer::sum);
        return tick;
    }

    /** Marks the end of a barrier started with {@code token}, once its reads have been applied. */
    void barrierEnded(long token) {
        barriers.computeIfPresent(token, (k, n) -> n == 1 ? null : n - 1);
        queuePrune();
    }

    /**
     * Queues a prune behind every answer the event thread has handed over so far: it runs once the
     * answer to a request sent now (an {@code exists} of the service) has been handed over, and
     * answers arrive in order. At most one is queued at a time.
     */
    private void queuePrune() {
        if (pruneQueued || closed || tombstones.isEmpty()) {
            return;
        }
        pruneQueued = true;
        long mark = tick;
        // Also on failure: an answer that does not come (the connection went) comes as an error, in order.
        zk.exists(servicePath).whenComplete((ev, e) -> execute(() -> prune(mark)));
    }

    /** Drops the tombstones written at or before {@code mark} that no barrier in flight may need. */
    private void prune(long mark) {
        pruneQueued = false;
        if (closed) {
            return;
        }
        long limit = barriers.isEmpty() ? mark : Math.min(mark, barriers.firstKey());
        tombstones.values().removeIf(t -> t.tick() <= limit);
        if (limit == mark) {
            queuePrune(); // tombstones written since the marker left need a marker of their own
        }
        // else: a barrier holds the rest; its barrierEnded queues the next prune
    }

    /**
     * Completes on the view's executor once the first load of the service has been applied (every
     * node it read, and every event before its last answer, has reached the view): {@code true}, or
     * {@code false} when the load failed (a connection loss; a barrier read then fills the view).
     */
    CompletableFuture<Boolean> loaded() {
        return loaded;
    }

    /** How many tombstones the view holds (tests: they must not accumulate). */
    int tombstoneCount() {
        return tombstones.size();
    }

    /** The instances held now, with their czxids, for a barrier's reconciliation. */
    Map<String, Entry> entries() {
        return new LinkedHashMap<>(entries);
    }

    /** Registers a subscription waiting for its barrier (it keeps the view open). */
    void addPending(GuardedSubscription s) {
        pending.add(s);
    }

    /**
     * Snapshot and attach, in one step on the view's executor: the subscription gets the current
     * entries, then {@code current()}, then every later change (no gap, no duplicate).
     */
    void attach(GuardedSubscription s) {
        if (closed || !pending.remove(s)) {
            return;
        }
        for (Entry e : entries.values()) {
            s.online(e.instance());
        }
        s.current();
        attached.add(s);
    }

    /** Removes a subscription still waiting for its barrier; returns whether it was waiting. */
    boolean removePending(GuardedSubscription s) {
        return pending.remove(s);
    }

    /** Removes a subscription; returns whether the view has no subscription left. */
    boolean detach(GuardedSubscription s) {
        attached.remove(s);
        pending.remove(s);
        return attached.isEmpty() && pending.isEmpty();
    }

    boolean isClosed() {
        return closed;
    }

    /** Removes the watch; no emission after this. */
    void close() {
        if (!closed) {
            closed = true;
            attached.clear();
            pending.clear();
            tombstones.clear();
            watcher.close();
        }
    }
}
