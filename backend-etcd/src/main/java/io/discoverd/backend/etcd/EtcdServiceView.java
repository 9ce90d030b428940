package io.discoverd.backend.etcd;

import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.GuardedSubscription;
import io.discoverd.backend.Instance;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This daemon's view of one watched service on etcd: addr → (attrs, created, mod revision), fed by
 * ONE prefix watch on {@code <prefix>/services/<name>/} started at the snapshot's revision + 1, and
 * the subscribers it feeds.
 *
 * <p>Revisions make every step exact. {@link #applied} is the revision the view reflects: every
 * event at or below it is in {@link #entries}, and a replayed event at or below it is ignored. A
 * subscriber's snapshot must reflect every write acknowledged before it subscribed (read-your-writes
 * through any daemon), so each one first makes a linearizable read of the service (its barrier, at
 * revision {@code R}). It is attached, with a snapshot of the view, once the view has
 * applied {@code R}, or as soon as the view holds exactly the keys and mod revisions the barrier read
 * saw (then nothing in the service changed between them that is still visible). Its floor is
 * {@code max(applied, R)}: it receives only events above the floor, so a change its snapshot already
 * reflects is never delivered twice, and one made after it is never missed.
 *
 * <p>When the watch fails (etcd down, the member restarted, the stream cancelled) a new watch resumes
 * from {@code applied + 1}, so etcd replays what was missed, exactly once, with backoff while etcd is
 * away. When that history has been compacted away, the view reads the service again and emits the
 * differences to its subscribers (offline for instances that vanished, online for new or changed
 * ones) instead of going silent.
 *
 * <p>Confinement: every method runs on the service's sequential executor, except the constructor,
 * {@link #name}, {@link #keyPrefix}, {@link #executor}, {@link #execute}, {@link #start} and
 * {@link #whenApplied} (any thread).
 */
final class EtcdServiceView {

    private static final Logger LOG = LoggerFactory.getLogger(EtcdServiceView.class);
    /** Backoff of watch recovery while etcd is away: first and longest delay (ms). */
    private static final long FIRST_BACKOFF_MS = 100;
    private static final long MAX_BACKOFF_MS = 2000;

    /** One instance as the view holds it. */
    record Entry(Map<String, String> attrs, long created, long modRevision, long lease) {
    }

    /**
     * A subscriber that gets events above {@code floor}; its snapshot was the view at
     * {@code snapshotRevision} (at most {@code floor}). It knows an instance whose mod revision is at
     * most {@code snapshotRevision} (its snapshot) or above {@code floor} (delivered), and no other.
     */
    private record Attached(GuardedSubscription sub, long floor, long snapshotRevision) {

        boolean knows(Entry e) {
            return e.modRevision() <= snapshotRevision || e.modRevision() > floor;
        }
    }

    /** A subscriber waiting for its barrier read, then for the view to catch up with it. */
    private static final class Pending {
        final GuardedSubscription sub;
        /** Whether the view's own load serves as its barrier (it subscribed before the load was read). */
        final boolean byLoad;
        long barrierRevision = -1;
        Map<String, Long> barrier;

        Pending(GuardedSubscription sub, boolean byLoad) {
            this.sub = sub;
            this.byLoad = byLoad;
        }
    }

    /** A service read: the kvs and the revision it was made at. */
    record Read(long revision, List<KeyValue> kvs) {
    }

    private final EtcdBackend backend;
    private final String name;
    private final String keyPrefix;
    private final Executor executor;
    private final Map<String, Entry> entries = new HashMap<>();
    private final List<Attached> attached = new ArrayList<>();
    private final List<Pending> pending = new ArrayList<>();
    private long applied = -1;
    private boolean ready;
    /** Writes through this daemon waiting for the view to apply them, by revision ({@link #whenApplied}). */
    private final java.util.TreeMap<Long, List<CompletableFuture<Void>>> appliedWaiters = new java.util.TreeMap<>();
    private boolean closed;
    private Watch.Watcher watcher;
    /** Bumped whenever the watch is replaced: callbacks of an older watch or read are ignored. */
    private int generation;
    private long backoffMs = FIRST_BACKOFF_MS;

    EtcdServiceView(EtcdBackend backend, String name, String keyPrefix, Executor executor) {
        this.backend = backend;
        this.name = name;
        this.keyPrefix = keyPrefix;
        this.executor = executor;
    }

    String name() {
        return name;
    }

    /** The key prefix of the service's instances, {@code <prefix>/services/<name>/}. */
    String keyPrefix() {
        return keyPrefix;
    }

    Executor executor() {
        return executor;
    }

    /** Hops onto the view's executor; after the backend's close the pool refuses, and nothing is left to do. */
    void execute(Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            LOG.debug("{}: executor closed, dropping a task", keyPrefix);
        }
    }

    /**
     * Adds the first subscriber and loads the service ({@link #load}): sends the read now, on the
     * calling thread (no wait for a hop onto the executor), and takes its pages on the executor as
     * they come. That read is made after the subscriber subscribed, so it is its barrier too
     * ({@link #addBeforeLoad}). Any thread; once per view.
     */
    void start(GuardedSubscription first) {
        execute(() -> addBeforeLoad(first));
        load();
    }

    /** Adds a subscriber whose barrier read is under way ({@link #barrierDone} or {@link #barrierFailed} follows). */
    void add(GuardedSubscription sub) {
        if (!closed) {
            pending.add(new Pending(sub, false));
        }
    }

    /**
     * Adds a subscriber of a view not loaded yet, before its load is read: the view's read of the
     * service is made after it subscribed, so that read is its barrier too (the service is read once,
     * not twice). If that read fails, the subscription fails as after its own barrier read.
     */
    private void addBeforeLoad(GuardedSubscription sub) {
        if (!closed) {
            pending.add(new Pending(sub, true));
        }
    }

    /**
     * The subscriber's barrier read. Its instances are taken by the same rules as the view's own
     * (instance keys with a valid value), so that "the view holds what the read saw" can hold. A
     * value is parsed only when the view does not hold its key at the same mod revision: a key at
     * one mod revision has one value, already judged when the view took it.
     */
    void barrierDone(GuardedSubscription sub, Read read) {
        Map<String, Long> modRevisions = new HashMap<>();
        for (KeyValue kv : read.kvs()) {
            String addr = addrOf(kv);
            if (addr == null) {
                continue;
            }
            Entry held = entries.get(addr);
            if ((held != null && held.modRevision() == kv.getModRevision()) || entry(kv) != null) {
                modRevisions.put(addr, kv.getModRevision());
            }
        }
        for (Pending p : pending) {
            if (p.sub == sub) {
                p.barrierRevision = read.revision();
                p.barrier = modRevisions;
            }
        }
        tryAttach();
    }

    /** The subscriber's barrier read failed: the subscription ends with the sentinel and the error. */
    void barrierFailed(GuardedSubscription sub, DiscoveryException cause) {
        if (pending.removeIf(p -> p.sub == sub)) {
            sub.fail(cause);
        }
    }

    /** Removes a subscriber (its handle was closed). */
    void remove(GuardedSubscription sub) {
        attached.removeIf(a -> a.sub == sub);
        pending.removeIf(p -> p.sub == sub);
    }

    /** Stops the watch; no emission after this. */
    void close() {
        if (!closed) {
            closed = true;
            generation++;
            closeWatcher();
            attached.clear();
            pending.clear();
            releaseWaiters();
        }
    }

    /**
     * Completes once the view has applied {@code revision} (its subscribers have been handed every
     * change up to it), or at once when it already has or is closed. Any thread; completes on the
     * view's executor. A Register through this daemon waits for it before it answers, so that the
     * daemon's own subscribers get the change no later than the registering client gets its reply.
     */
    CompletableFuture<Void> whenApplied(long revision) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        execute(() -> {
            if (closed || applied >= revision) {
                done.complete(null);
            } else {
                appliedWaiters.computeIfAbsent(revision, r -> new ArrayList<>(1)).add(done);
            }
        });
        return done;
    }

    /** Completes the waiters the view has caught up with (all of them once it is closed). */
    private void releaseWaiters() {
        while (!appliedWaiters.isEmpty() && (closed || appliedWaiters.firstKey() <= applied)) {
            appliedWaiters.pollFirstEntry().getValue().forEach(w -> w.complete(null));
        }
    }

    // ---------------------------------------------------------------- attaching

    private void tryAttach() {
        if (!ready || closed) {
            return;
        }
        for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (p.barrier != null && (applied >= p.barrierRevision || sameKeys(p.barrier))) {
                it.remove();
                attach(p.sub, Math.max(applied, p.barrierRevision));
            }
        }
    }

    private boolean sameKeys(Map<String, Long> modRevisions) {
        if (modRevisions.size() != entries.size()) {
            return false;
        }
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            Long mod = modRevisions.get(e.getKey());
            if (mod == null || mod != e.getValue().modRevision()) {
                return false;
            }
        }
        return true;
    }

    /** Snapshot and attach in one step: the current entries, {@code current()}, then events above {@code floor}. */
    private void attach(GuardedSubscription sub, long floor) {
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            sub.online(instance(e.getKey(), e.getValue()));
        }
        sub.current();
        if (!sub.isClosed()) {
            attached.add(new Attached(sub, floor, applied));
        }
    }

    private Instance instance(String addr, Entry e) {
        return new Instance(name, addr, e.attrs(), e.created());
    }

    // ---------------------------------------------------------------- the watch

    private void startWatch(long fromRevision) {
        int gen = generation;
        watcher = backend.watch(keyPrefix, fromRevision, new Watch.Listener() {
            @Override
            public void onNext(WatchResponse response) {
                execute(() -> onResponse(gen, response));
            }

            @Override
            public void onError(Throwable failure) {
                execute(() -> onWatchFailure(gen, failure));
            }

            @Override
            public void onCompleted() {
                execute(() -> onWatchFailure(gen, null));
            }
        });
    }

    private void onResponse(int gen, WatchResponse response) {
        if (closed || gen != generation) {
            return;
        }
        backoffMs = FIRST_BACKOFF_MS; // the stream works
        long base = applied;
        long last = applied;
        for (WatchEvent ev : response.getEvents()) {
            KeyValue kv = ev.getKeyValue();
            long rev = kv.getModRevision();
            String addr = addrOf(kv);
            if (rev <= base || addr == null) {
                continue; // replayed, or not an instance key
            }
            last = Math.max(last, rev);
            if (ev.getEventType() == WatchEvent.EventType.PUT) {
                Entry e = entry(kv);
                if (e == null) {
                    LOG.warn("ignoring {}{}: its value is not an attrs JSON object", keyPrefix, addr);
                    removed(addr, rev);
                } else {
                    put(addr, e, rev);
                }
            } else if (ev.getEventType() == WatchEvent.EventType.DELETE) {
                removed(addr, rev);
            }
        }
        applied = last;
        tryAttach();
        releaseWaiters();
    }

    private void put(String addr, Entry e, long rev) {
        Entry old = entries.put(addr, e);
        backend.observedPut(name, addr, e);
        if (old == null || old.created() != e.created() || !Objects.equals(old.attrs(), e.attrs())) {
            Instance instance = instance(addr, e);
            for (Attached a : List.copyOf(attached)) {
                if (rev > a.floor()) {
                    a.sub().online(instance);
                }
            }
        }
    }

    private void removed(String addr, long rev) {
        Entry old = entries.remove(addr);
        if (old != null) {
            backend.observedDelete(name, addr, old);
            for (Attached a : List.copyOf(attached)) {
                // A resync may remove an instance that came and went between a subscriber's
                // snapshot and its floor: it never saw it, so it hears nothing of it.
                if (rev > a.floor() && a.knows(old)) {
                    a.sub().offline(name, addr);
                }
            }
        }
    }

    private void onWatchFailure(int gen, Throwable failure) {
        if (closed || gen != generation) {
            return;
        }
        generation++;
        closeWatcher();
        if (isCompaction(failure)) {
            LOG.info("watch on {} lost its history ({}): reading the service again", keyPrefix, failure.getMessage());
            resync(backend.readService(keyPrefix));
        } else {
            LOG.debug("watch on {} ended ({}): resuming from revision {}", keyPrefix,
                    failure == null ? "completed" : failure.getMessage(), applied + 1);
            scheduleRecovery(false);
        }
    }

    private static boolean isCompaction(Throwable failure) {
        return failure instanceof CompactedException
                || (failure instanceof EtcdException ee && ee.getErrorCode() == ErrorCode.OUT_OF_RANGE);
    }

    /** After a backoff: a new watch from {@code applied + 1}, or (before the first load, or on request) a full read. */
    private void scheduleRecovery(boolean fullRead) {
        int gen = generation;
        long delay = backoffMs;
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        backend.schedule(delay, () -> execute(() -> {
            if (closed || gen != generation) {
                return;
            }
            if (!ready) {
                load();
            } else if (fullRead) {
                resync(backend.readService(keyPrefix));
            } else {
                startWatch(applied + 1);
            }
        }));
    }

    /**
     * Takes {@code serviceRead}, a read of the whole service, once the view is loaded: emits the
     * differences from what the view held to the attached subscribers, and watches from the read's
     * revision + 1.
     */
    private void resync(CompletableFuture<Read> serviceRead) {
        if (closed) {
            return;
        }
        generation++;
        closeWatcher();
        int gen = generation;
        serviceRead.whenComplete((read, err) -> execute(() -> {
            if (closed || gen != generation) {
                return;
            }
            if (err != null) {
                LOG.debug("reading {} failed: {}", keyPrefix, err.getMessage());
                scheduleRecovery(true);
                return;
            }
            applySnapshot(read.revision(), instances(keyPrefix, read.kvs()));
            startWatch(read.revision() + 1);
        }));
    }

    /** A load under way: the subscribers whose barrier its read is, and the generation it belongs to. */
    private static final class Load {
        final List<GuardedSubscription> subs = new ArrayList<>();
        int gen = -1;
    }

    /**
     * Loads the service while it is not loaded yet (nothing is attached): the first load, or a
     * retry after it failed. Any thread. Sends the read now; its pages are taken on the executor as
     * they come, one pass each: every instance goes into the view and at once to the subscribers
     * whose barrier this read is (those added by {@link #addBeforeLoad} before the load began), so
     * the snapshot of a service larger than one page ({@link EtcdBackend#firstPageKeys}) goes out
     * while the store still answers the later pages. After the last page
     * they get {@code current()} and are attached at the read's revision, and the watch starts from
     * the next one.
     *
     * <p>A read that fails (etcd away beyond jetcd's retries, or the revision compacted between two
     * pages) ends those subscriptions with the store's error, after {@code current()} (PROTOCOL.md
     * §5.5.4), and the view retries with backoff, from an empty view. A page that came before the
     * failure has been delivered: such a subscriber has had part of the service before the sentinel
     * and the error (a failed single read gave it nothing). Unlike a whole read
     * ({@link EtcdBackend#readService}), a load is not started again after a compaction: what it
     * handed over cannot be taken back.
     *
     * <p>Unlike a watched put, a loaded instance does not update the registration this daemon may
     * hold for it ({@link EtcdBackend#observedPut}): one that another daemon changed since is found
     * by its next heartbeat's check transaction instead, at the cost of a second round trip for
     * that heartbeat. Looking up each instance of a service of 5,000 in a daemon holding 115,000
     * registrations was 29 % of the load's CPU (profiled in the bench's scale scenario).
     */
    private void load() {
        Load l = new Load();
        execute(() -> beginLoad(l));
        backend.readPages(keyPrefix, kvs -> execute(() -> loadPage(l, kvs)))
                .whenComplete((revision, err) -> execute(() -> endLoad(l, revision, err)));
    }

    private void beginLoad(Load l) {
        if (closed) {
            return;
        }
        generation++;
        closeWatcher();
        l.gen = generation;
        for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (p.byLoad) {
                it.remove();
                l.subs.add(p.sub);
            }
        }
    }

    private void loadPage(Load l, List<KeyValue> kvs) {
        if (closed || l.gen != generation) {
            return;
        }
        l.subs.removeIf(GuardedSubscription::isClosed);
        forEachInstance(keyPrefix, kvs, (addr, e) -> {
            entries.put(addr, e);
            if (!l.subs.isEmpty()) {
                Instance instance = instance(addr, e);
                for (GuardedSubscription sub : l.subs) {
                    sub.online(instance);
                }
            }
        });
    }

    private void endLoad(Load l, Long revision, Throwable err) {
        if (closed || l.gen != generation) {
            return;
        }
        if (err != null) {
            LOG.debug("reading {} failed: {}", keyPrefix, err.getMessage());
            entries.clear();
            for (GuardedSubscription sub : l.subs) {
                sub.fail(backend.storeError(err));
            }
            scheduleRecovery(true);
            return;
        }
        for (GuardedSubscription sub : l.subs) {
            sub.current();
            if (!sub.isClosed()) {
                attached.add(new Attached(sub, revision, revision));
            }
        }
        loaded(revision);
        startWatch(revision + 1);
    }

    private void applySnapshot(long revision, Map<String, Entry> next) {
        for (String addr : List.copyOf(entries.keySet())) {
            if (!next.containsKey(addr)) {
                removed(addr, revision);
            }
        }
        for (Map.Entry<String, Entry> e : next.entrySet()) {
            Entry old = entries.get(e.getKey());
            if (old == null || old.modRevision() != e.getValue().modRevision()) {
                put(e.getKey(), e.getValue(), revision);
            }
        }
        loaded(revision);
    }

    /** The view reflects the service at {@code revision}: waiting subscribers and writers it has caught up with go on. */
    private void loaded(long revision) {
        applied = revision;
        ready = true;
        backoffMs = FIRST_BACKOFF_MS;
        tryAttach();
        releaseWaiters();
    }

    private void closeWatcher() {
        Watch.Watcher w = watcher;
        watcher = null;
        if (w != null) {
            try {
                w.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the watch on {}", keyPrefix, e);
            }
        }
    }

    /**
     * The instances among a read's kvs: instance keys directly under {@code keyPrefix} whose value is
     * an attrs JSON (anything else under the prefix is not ours and is ignored), by address.
     */
    static Map<String, Entry> instances(String keyPrefix, List<KeyValue> kvs) {
        Map<String, Entry> out = new HashMap<>();
        forEachInstance(keyPrefix, kvs, out::put);
        return out;
    }

    /** Calls {@code action} with the address and entry of each instance among {@code kvs}, in their order (see {@link #instances}). */
    private static void forEachInstance(String keyPrefix, List<KeyValue> kvs, BiConsumer<String, Entry> action) {
        for (KeyValue kv : kvs) {
            String addr = addrOf(keyPrefix, kv);
            Entry e = addr == null ? null : entry(kv);
            if (e != null) {
                action.accept(addr, e);
            }
        }
    }

    private String addrOf(KeyValue kv) {
        return addrOf(keyPrefix, kv);
    }

    /** The address of an instance key directly under {@code keyPrefix}, or {@code null} for any other key. */
    private static String addrOf(String keyPrefix, KeyValue kv) {
        String key = kv.getKey().toString(StandardCharsets.UTF_8);
        if (!key.startsWith(keyPrefix) || key.length() == keyPrefix.length()) {
            return null;
        }
        String addr = key.substring(keyPrefix.length());
        return addr.indexOf('/') >= 0 ? null : addr;
    }

    private static Entry entry(KeyValue kv) {
        return StoredAttrs.parse(kv.getValue().getBytes())
                .map(p -> new Entry(p.attrs(), kv.getCreateRevision(), kv.getModRevision(), kv.getLease()))
                .orElse(null);
    }
}
