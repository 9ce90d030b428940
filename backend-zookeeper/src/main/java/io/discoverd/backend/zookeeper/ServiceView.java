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
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This daemon's view of one watched service: addr → (attrs, created, czxid, mzxid), fed by ONE
 * shared {@link CuratorCache} on {@code <root>/services/<name>}, by this daemon's own acknowledged
 * writes, and by barrier reads; it emits to its subscribers exactly the differences it applies.
 *
 * <p>Why a view of our own rather than the cache's storage: the cache fills its storage on the
 * ZooKeeper event thread and calls listeners later, and reads a node's data only after its watch
 * fires, so neither {@code cache.stream()} nor the listener alone gives a gap-free, duplicate-free
 * snapshot (notes/zookeeper.md, "Traps").
 *
 * <p>Ordering rules that keep late or repeated information from resurrecting or duplicating
 * anything: an incarnation of a node is identified by its czxid and its content by its mzxid; an
 * observation older than what the view holds is ignored, and the highest deleted czxid of each
 * address is remembered (a tombstone), so a late creation event of a deleted node is ignored.
 *
 * <p>Tombstones do not outlive their use (else the view grows by one per address ever deleted).
 * Stale information about a deleted incarnation can come only from (a) a cache event whose read was
 * answered before the deletion became known: the cache queues every listener call on Curator's
 * single {@code runSafe} thread, so once a marker queued there after the deletion reaches this
 * executor, no such event is left; (b) a barrier read issued before the deletion: kept while a
 * barrier that started before it is in flight. A tombstone is dropped when both hold, or at once
 * when a later incarnation of the address is observed (the entry's czxid then guards it).
 *
 * <p>Confinement: every method except the constructor runs on the service's sequential executor.
 */
final class ServiceView {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceView.class);

    /** One instance as the view holds it. */
    record Entry(Map<String, String> attrs, long created, long czxid, long mzxid) {
    }

    /** The highest deleted czxid of an address, and the {@link #tick} at which it was written. */
    private record Tomb(long czxid, long tick) {
    }

    private final String name;
    private final String servicePath;
    private final Executor executor;
    private final CuratorCache cache;
    private final Map<String, Entry> entries = new HashMap<>();
    private final CuratorFramework client;
    private final Map<String, Tomb> tombstones = new HashMap<>();
    /** Start ticks of the barriers in flight (a multiset: tick → count). */
    private final java.util.TreeMap<Long, Integer> barriers = new java.util.TreeMap<>();
    /** Logical clock of deletions: bumped by each tombstone written. */
    private long tick;
    private boolean pruneQueued;
    private final List<GuardedSubscription> attached = new ArrayList<>();
    private final List<GuardedSubscription> pending = new ArrayList<>();
    private boolean closed;
    /** Completes (on the executor) once the cache has loaded the service; see {@link #loaded()}. */
    private final CompletableFuture<Void> loaded = new CompletableFuture<>();

    ServiceView(String name, String servicePath, CuratorFramework client, Executor executor) {
        this.name = name;
        this.servicePath = servicePath;
        this.executor = executor;
        this.client = client;
        this.cache = CuratorCache.build(client, servicePath);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreatesAndChanges((oldNode, node) -> onCacheChange(node))
                .forDeletes(this::onCacheDelete)
                .forInitialized(() -> execute(() -> loaded.complete(null)))
                .build());
        cache.start();
    }

    private String addrOf(String path) {
        if (path == null || path.length() <= servicePath.length() + 1 || !path.startsWith(servicePath + "/")) {
            return null;
        }
        String rest = path.substring(servicePath.length() + 1);
        return rest.indexOf('/') >= 0 ? null : rest;
    }

    // Cache callbacks arrive on Curator threads: hop onto the view's executor.
    private void onCacheChange(ChildData node) {
        String addr = addrOf(node.getPath());
        if (addr != null && node.getStat() != null) {
            execute(() -> observed(addr, node.getStat(), node.getData()));
        }
    }

    /** Hops onto the executor; after the backend's close the pool refuses, and there is nothing left to do. */
    private void execute(Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            LOG.debug("{}: executor closed, dropping a cache event", servicePath);
        }
    }

    private void onCacheDelete(ChildData old) {
        String addr = addrOf(old.getPath());
        if (addr != null && old.getStat() != null) {
            long czxid = old.getStat().getCzxid();
            execute(() -> deleted(addr, czxid));
        }
    }

    /**
     * Applies an observation of a node's state (cache event, own write acknowledged, barrier read).
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
        Entry e = new Entry(si.attrs(), si.created(), stat.getCzxid(), stat.getMzxid());
        entries.put(addr, e);
        if (tomb != null) {
            tombstones.remove(addr); // the entry's larger czxid now keeps older incarnations out
        }
        if (old == null || old.created() != e.created() || !Objects.equals(old.attrs(), e.attrs())) {
            Instance instance = new Instance(name, addr, e.attrs(), e.created());
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
     * Queues a prune behind every cache listener call Curator has queued so far (they all pass
     * through its single {@code runSafe} thread); at most one is queued at a time.
     */
    private void queuePrune() {
        if (pruneQueued || closed || tombstones.isEmpty()) {
            return;
        }
        pruneQueued = true;
        long mark = tick;
        try {
            client.runSafe(() -> execute(() -> prune(mark)));
        } catch (RuntimeException e) {
            pruneQueued = false; // the client is closing; so is this view
            LOG.debug("{}: cannot queue a tombstone prune", servicePath, e);
        }
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
     * Completes on the view's executor once the cache's first load of the service has been applied:
     * every node the cache read at start has reached the view. The cache calls its listeners in
     * order on Curator's single {@code runSafe} thread, so this follows every one of those events.
     * Never completes if the view is closed first.
     */
    CompletableFuture<Void> loaded() {
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
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            s.online(new Instance(name, e.getKey(), e.getValue().attrs(), e.getValue().created()));
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

    /** Closes the shared cache; no emission after this. */
    void close() {
        if (!closed) {
            closed = true;
            attached.clear();
            pending.clear();
            tombstones.clear();
            cache.close();
        }
    }
}
