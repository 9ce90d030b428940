package io.discoverd.backend.zookeeper;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Instance;
import io.discoverd.backend.Registration;
import io.discoverd.backend.Registration.Outcome;
import io.discoverd.backend.SharedCall;
import io.discoverd.backend.GuardedSubscription;
import io.discoverd.backend.Subscription;
import io.discoverd.backend.SubscriptionListener;
import io.discoverd.backend.Validation;
import io.discoverd.backend.zookeeper.AsyncZk.ChildRead;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.CuratorEventType;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.LockInternals;
import org.apache.curator.framework.recipes.locks.LockInternalsSorter;
import org.apache.curator.framework.recipes.locks.StandardLockInternalsDriver;
import org.apache.curator.utils.ZKPaths;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ZooKeeper implementation of the backend contract (ARCHITECTURE.md, "The contract every
 * backend meets", "Liveness", "Store layout").
 *
 * <p>Store layout: {@code <root>/services/<name>/<addr>} is an EPHEMERAL node of this daemon's
 * session holding {@link StoredInstance}; {@code <root>/leaders/<name>/} holds one Curator
 * {@link LeaderLatch} participant per instance (id = addr), and an instance's {@code created} is the
 * czxid of its latch node, which orders the latch queue (notes/zookeeper.md).
 *
 * <p>Liveness: the TTL is enforced here, not by the store. Each instance this daemon owns has an
 * in-memory deadline; a heartbeat moves it without a store write; at the deadline (never before;
 * after it by the sweep's few ms plus whatever waits ahead on the service's lane) the node is
 * deleted with a versioned delete, so a refresh written by another daemon that raced it wins. A
 * refresh by another daemon moves the node's version, which the owner sees through ONE persistent
 * recursive watch per service in which it owns instances (not a watch per instance) and treats as a
 * heartbeat. A store outage does not count against deadlines; after a session expiry every instance
 * still held is registered again (new {@code created}, PROTOCOL.md §6.4).
 *
 * <p>Store requests: a new instance costs what the raw client pays, a latch participant create and
 * an instance create (the service's watch once per service); a Register for an instance held by
 * another daemon is a read and a versioned write (ARCHITECTURE.md "Liveness").
 *
 * <p>Restart: the session is recorded in the data directory ({@link SavedSession}) and resumed on
 * start ({@link ResumingZookeeperFactory}); {@link #close()} leaves it open, and the nodes it still
 * holds are adopted on the next start, with their {@code created} and latch participants.
 * {@link #drain()} closes it.
 *
 * <p>Delivery: writes made through this daemon are applied to its views as they are acknowledged,
 * so its subscribers get every such change one by one; changes made through other daemons arrive as
 * the shared view observes them and may be coalesced (PROTOCOL.md §6.4); views always converge.
 *
 * <p>Threading: every service has a sequential executor (Guava's: one task at a time, in submission
 * order) that owns its state, its view and its listener calls. The executors run on a few threads
 * ({@link #lanes}: one per two cores, at least one), each service always on the same one, chosen by
 * its name. On a shared cached pool, handing each task to a parked thread was a fifth of the
 * daemon's CPU per registration (an async-profiler record of the register benchmark on 2 cores:
 * 22 % of samples in the pool's park and unpark; daemon CPU per registration 322 → 242 µs with one
 * thread, in back-to-back runs); a lane that stays busy under load is rarely parked. The price: a
 * long task (loading a service of thousands of instances, handing a change to thousands of
 * subscribers) delays the other services of its lane, and no task may block at all (not on a store
 * answer, nor on any executor: the waits below are test helpers, called from test threads). Curator
 * callbacks hop onto the executor (one exception: a new instance's node create is sent from its
 * latch participant's create callback, as it reads no state). Operations on one instance are
 * chained, so they apply in call order. Nothing here blocks the caller (Vert.x event loops
 * included); the backend does not use the daemon's Vert.x instance. Thread-safe.
 */
final class ZooKeeperBackend implements DiscoveryBackend {

    private static final Logger LOG = LoggerFactory.getLogger(ZooKeeperBackend.class);
    private static final int MAX_ATTEMPTS = 8;
    private static final long RETRY_MS = 200;
    /** How long a view without subscribers stays open by default (see {@link #startLinger}). */
    static final Duration DEFAULT_VIEW_LINGER = Duration.ofSeconds(30);
    /** At most this many views without subscribers are kept open at a time. */
    static final int MAX_LINGERING = 1000;
    /** The node name Curator's {@link LeaderLatch} gives its participants (before its protection prefix and sequence). */
    private static final String LATCH_NODE_NAME = "latch-";
    /** How many instances known to be held by other daemons are remembered (see {@link #heldElsewhere}). */
    private static final int HELD_ELSEWHERE_MAX = 16_384;
    /**
     * Equal attribute maps of owned instances are kept once (instances of a service usually carry
     * the same attributes). Weak: a map no instance holds any more is dropped.
     */
    private static final AttrsInterner ATTRS = new AttrsInterner();

    private final AsyncZk zk;
    private final CuratorFramework client;
    private final String connectDescription;
    private final String servicesRoot;
    private final String leadersRoot;
    private final Duration ttl;
    private final Duration connectionTimeout;
    private final EmbeddedZooKeeper embedded;
    /**
     * The threads every service executor runs on (see the class Javadoc, "Threading"): one per two
     * available processors, at least one; a service's lane is fixed by its name.
     */
    private final ExecutorService[] lanes;
    private final ScheduledThreadPoolExecutor timer;
    private final Map<String, ServiceState> services = new HashMap<>();
    /**
     * Instance paths last seen held by another session, so that a Register reaching this daemon for
     * them (a cross-daemon heartbeat) goes straight to the read and versioned write instead of first
     * trying to create them (a participant create, the failed create and the participant's delete).
     * Bounded (least recently used dropped; unused for 4 TTLs dropped): a path missing here costs those
     * three requests once, a stale one costs one read. Dropped when a read by this daemon finds the
     * node gone or its own, or when it is unregistered through this daemon.
     */
    private final Cache<String, Boolean> heldElsewhere;
    /**
     * The owned instances by the time their deadline is next checked: ONE timer task (the
     * {@link #sweep}) serves them all, instead of a scheduled task per instance (~150 bytes each).
     */
    private final java.util.TreeSet<Owned> expiries = new java.util.TreeSet<>(
            (a, b) -> a.dueNanos != b.dueNanos ? Long.signum(a.dueNanos - b.dueNanos) : Long.compare(a.dueSeq, b.dueSeq));
    private long dueSeq;
    /** The armed sweep and when it runs; these and {@link #expiries} guarded by {@link #expiries}. */
    private ScheduledFuture<?> sweep;
    private long sweepAtNanos;
    /** Futures that {@link #close()} must complete if nothing else does (see {@link #track}). */
    private final Set<CompletableFuture<?>> pendingFutures = ConcurrentHashMap.newKeySet();
    private final Session session;
    /**
     * Completes once the instances and participants of a resumed session are adopted (at once when
     * nothing is resumed); registrations of instances not owned yet wait for it, so that no new latch
     * is mistaken for a leftover participant and no adopted instance is registered twice.
     */
    private final CompletableFuture<Void> adoption;
    /** The session of the last connection; confined to the connection-state executor. */
    private long currentSessionId;
    /** When the connection was lost ({@link System#nanoTime()}); confined to the connection-state executor. */
    private long disconnectedAtNanos;
    /**
     * The last outage (same session): its length and when it ended. Written (in that order) before
     * {@link #connected} turns true, so an expiry check that sees the store back also sees the
     * outage to credit first (see {@link #credit}).
     */
    private volatile long lastOutageNanos;
    private volatile long lastOutageEndedAtNanos;
    private volatile boolean connected;
    private volatile boolean closed;
    /**
     * Bumped by every connection event (disconnected, connected, expired) on the ZooKeeper event
     * thread, in order with the answers to calls: two callbacks that see the same value ran on one
     * connection. Written only by that thread.
     */
    private volatile int connectionGeneration;
    /** How long a view without subscribers stays open (see {@link #startLinger}). */
    private volatile Duration viewLinger = DEFAULT_VIEW_LINGER;
    /** How many views linger now; at most {@link #MAX_LINGERING}. */
    private final java.util.concurrent.atomic.AtomicInteger lingering = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Where this daemon's session is recorded and how its handles close.
     *
     * @param factory the handle factory (resumes the recorded session once; can keep it open on close)
     * @param dataDir the daemon's data directory (locked by the daemon)
     * @param store   the store the session belongs to (see {@link SavedSession})
     */
    record Session(ResumingZookeeperFactory factory, Path dataDir, String store) {
    }

    /** Per-service state; {@code refs} guarded by {@link #services}, the rest confined to {@code executor}. */
    private final class ServiceState {
        final String name;
        final String servicePath;
        final String leaderPath;
        final Executor executor;
        /** Written on the executor; read by {@link #heartbeatAtOwner} on callers' threads. */
        final Map<String, Owned> owned = new ConcurrentHashMap<>();
        final Map<String, CompletableFuture<?>> tails = new HashMap<>();
        int refs;
        ServiceView view;
        /**
         * The connection generation since which the view has followed the store without a gap
         * (its view started, or its last full barrier read), or -1; see {@link #snapshotBarrier}.
         */
        int viewGeneration = -1;
        /** Identifies the current linger of the view (see {@link #startLinger}), or {@code null}. */
        Object lingerToken;
        ScheduledFuture<?> lingerTimer;
        /**
         * The {@link #marker}s of new subscribers, shared by those arriving together; each is sent from a
         * task queued behind the subscribers already waiting on the executor.
         */
        final SharedCall<Integer> markers = new SharedCall<>(() -> marker(this), task -> runOn(this, task));
        /** The ensured instance and leader directories ({@link #ensureParents}); {@code null} until needed or after a NONODE. */
        CompletableFuture<Void> parents;
        /**
         * The persistent recursive watch on {@link #servicePath} that reports writes and deletes of the
         * owned instances by other daemons; {@code null} when none. Present while this daemon owns an
         * instance here or creates one (see {@link #createWatched}).
         */
        OwnedWatcher ownedWatch;
        /**
         * Moves whenever {@link #ownedWatch} may have missed an event (added anew, removed, failed,
         * reconnected): a create in flight meanwhile then reads its instance once. Written on the
         * executor; read by {@link #createWatched}'s completion on any thread.
         */
        volatile int watchEpoch;

        ServiceState(String name) {
            this.name = name;
            this.servicePath = servicesRoot + "/" + name;
            this.leaderPath = leadersRoot + "/" + name;
            this.executor = MoreExecutors.newSequentialExecutor(lanes[Math.floorMod(name.hashCode(), lanes.length)]);
        }

        String path(String addr) {
            return servicePath + "/" + addr;
        }

        /**
         * A heartbeat at the owner answered on the caller's thread, with no hop to the executor: when
         * this daemon owns {@code addr} with equal attrs and no other operation on it is queued or
         * running, the deadline moves (no store write, as on the executor, ARCHITECTURE.md "Liveness").
         * Holding the {@link #tails} lock orders it before any operation queued after it.
         *
         * @return the registration, or {@code null} when the operation must go through {@link #serial}
         */
        Registration heartbeatAtOwner(String addr, Map<String, String> attrs, long ttlNanos) {
            synchronized (tails) {
                Owned o = owned.get(addr);
                if (o == null || tails.containsKey(addr) || !Objects.equals(o.attrs, attrs)) {
                    return null;
                }
                o.deadlineNanos = System.nanoTime() + ttlNanos;
                return new Registration(new Instance(name, addr, o.attrs, o.created), Outcome.REFRESHED);
            }
        }

        /** Runs {@code op} on the executor after every earlier operation on {@code addr} completed. */
        <T> CompletableFuture<T> serial(String addr, Supplier<CompletableFuture<T>> op) {
            synchronized (tails) {
                CompletableFuture<?> prev = tails.getOrDefault(addr, CompletableFuture.completedFuture(null));
                CompletableFuture<T> next = prev.handle((x, e) -> null).thenComposeAsync(v -> op.get(), executor);
                tails.put(addr, next);
                next.whenComplete((x, e) -> {
                    synchronized (tails) {
                        tails.remove(addr, next);
                    }
                });
                return next;
            }
        }

        void applyObserved(String addr, Stat stat, byte[] data) {
            if (view != null) {
                view.observed(addr, stat, data);
            }
        }

        void applyDeleted(String addr, long czxid) {
            if (view != null) {
                view.deleted(addr, czxid);
            }
        }
    }

    /**
     * An instance whose nodes this daemon's session holds; confined to its service's executor, except
     * {@link #dueNanos} and {@link #dueSeq} (guarded by {@link #expiries}).
     */
    private static final class Owned {
        final ServiceState service;
        final String addr;
        /**
         * The name (under the service's leader path) of its latch participant node, or {@code null}
         * when unknown. The node is managed directly rather than through a Curator {@link LeaderLatch}
         * object: a started latch costs ~1 KB of heap, a thread at start, a read of the whole latch
         * directory and a watch, and it could not adopt a resumed session's node anyway.
         */
        String participant;
        final long created;
        final long czxid;
        int version;
        /** Written on the executor; read by {@link ServiceState#heartbeatAtOwner} on callers' threads. */
        volatile Map<String, String> attrs;
        volatile long deadlineNanos;
        /** The end ({@code lastOutageEndedAtNanos}) of the last outage added to the deadline. */
        long creditedOutage;
        /** When its deadline is next checked ({@link System#nanoTime()}); fixed while it is in {@link #expiries}. */
        long dueNanos;
        /** Breaks ties between equal {@link #dueNanos} in {@link #expiries}; fixed while it is there. */
        long dueSeq;

        Owned(ServiceState service, String addr, String participant, long created, long czxid, int version,
              Map<String, String> attrs) {
            this.service = service;
            this.addr = addr;
            this.participant = participant;
            this.created = created;
            this.czxid = czxid;
            this.version = version;
            this.attrs = attrs;
        }
    }

    ZooKeeperBackend(CuratorFramework client, String connectDescription, String root, Duration ttl,
                     Duration connectionTimeout, EmbeddedZooKeeper embedded, Session session) {
        this.client = client;
        this.zk = new AsyncZk(client);
        this.connectDescription = connectDescription;
        this.servicesRoot = root + "/services";
        this.leadersRoot = root + "/leaders";
        this.ttl = ttl;
        this.heldElsewhere = CacheBuilder.newBuilder().maximumSize(HELD_ELSEWHERE_MAX)
                .expireAfterAccess(ttl.multipliedBy(4)).build();
        this.connectionTimeout = connectionTimeout;
        this.embedded = embedded;
        this.session = session;
        this.adoption = session.factory().resumeSessionId() == 0
                ? CompletableFuture.completedFuture(null) : new CompletableFuture<>();
        this.lanes = new ExecutorService[Math.max(1, Runtime.getRuntime().availableProcessors() / 2)];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = Executors.newSingleThreadExecutor(new ThreadFactoryBuilder()
                    .setNameFormat("discoverd-zk-lane-" + i).setDaemon(true).build());
        }
        this.timer = new ScheduledThreadPoolExecutor(1, new ThreadFactoryBuilder()
                .setNameFormat("discoverd-zk-timer").setDaemon(true).build());
        // The sweep is re-armed (cancelled and scheduled) often; cancelled tasks must not pile up.
        timer.setRemoveOnCancelPolicy(true);
        // Sequential: connection states must be applied in the order Curator reports them.
        client.getConnectionStateListenable().addListener((c, state) -> onConnectionState(state),
                MoreExecutors.newSequentialExecutor(lanes[0]));
        // Curator calls this on the ZooKeeper event thread, for the connection events of its own watcher.
        client.getCuratorListenable().addListener((c, event) -> {
            if (event.getType() == CuratorEventType.WATCHED && event.getWatchedEvent() != null
                    && event.getWatchedEvent().getType() == Watcher.Event.EventType.None) {
                connectionGeneration++;
            }
        });
    }

    /** Starts Curator; returns at once (the connection is made in the background). */
    void start() {
        client.start();
    }

    // ------------------------------------------------------------------ service refs

    private ServiceState acquire(String name) {
        synchronized (services) {
            ServiceState s = services.computeIfAbsent(name, ServiceState::new);
            s.refs++;
            return s;
        }
    }

    private void release(ServiceState s) {
        synchronized (services) {
            if (--s.refs == 0) {
                services.remove(s.name, s);
            }
        }
    }

    private List<ServiceState> allServices() {
        synchronized (services) {
            return new ArrayList<>(services.values());
        }
    }

    // ------------------------------------------------------------------ connection

    private void onConnectionState(ConnectionState state) {
        LOG.info("zookeeper {}: {}", connectDescription, state);
        switch (state) {
            case CONNECTED, RECONNECTED -> {
                long sid = sessionId();
                boolean newSession = sid != -1 && sid != currentSessionId;
                long previous = currentSessionId;
                if (newSession) {
                    currentSessionId = sid;
                    recordSession(sid);
                }
                if (disconnectedAtNanos != 0) {
                    long now = System.nanoTime();
                    lastOutageNanos = now - disconnectedAtNanos;
                    lastOutageEndedAtNanos = now;
                    disconnectedAtNanos = 0;
                }
                connected = true;
                if (newSession && sid == session.factory().resumeSessionId()) {
                    LOG.info("zookeeper {}: resumed session 0x{}", connectDescription, Long.toHexString(sid));
                    adoptResumedSession(sid);
                } else if (!adoption.isDone()) {
                    // The recorded session had expired: nothing of it is left to adopt.
                    LOG.info("zookeeper {}: the recorded session could not be resumed; new session 0x{}",
                            connectDescription, Long.toHexString(sid));
                    adoption.complete(null);
                }
                boolean expired = newSession && previous != 0;
                if (expired || state == ConnectionState.RECONNECTED) {
                    for (ServiceState s : allServices()) {
                        runOn(s, () -> {
                            if (expired) {
                                registerAgain(s);
                            } else {
                                for (Owned o : s.owned.values()) {
                                    credit(o);
                                }
                                // The watch survived the reconnect, but what happened while disconnected was not reported.
                                recheckOwned(s);
                            }
                            // A view reads its service again once its own watch is set again (ServiceView#watchSet).
                        });
                    }
                }
            }
            case SUSPENDED, READ_ONLY, LOST -> {
                // LOST: the session is gone (or presumed gone). What this daemon holds is kept: its
                // heartbeats still succeed, and the instances are registered again in the next session.
                if (connected || disconnectedAtNanos == 0) {
                    disconnectedAtNanos = System.nanoTime();
                }
                connected = false;
            }
            default -> {
            }
        }
    }

    /**
     * Nothing expires because the store was away: the last outage is added to the deadline, once.
     * Runs on the instance's service executor.
     */
    private void credit(Owned o) {
        long end = lastOutageEndedAtNanos;
        // Under the tails lock: a heartbeat answered on a caller's thread ({@link ServiceState#heartbeatAtOwner})
        // must not be overwritten by this read-modify-write.
        synchronized (o.service.tails) {
            if (o.creditedOutage != end) {
                o.deadlineNanos += lastOutageNanos;
                o.creditedOutage = end;
            }
        }
    }

    /** Records the session in the data directory, so that the next start resumes it. */
    private void recordSession(long sid) {
        try {
            byte[] password = client.getZookeeperClient().getZooKeeper().getSessionPasswd();
            new SavedSession(session.store(), sid, password).save(session.dataDir());
        } catch (IOException e) {
            LOG.warn("cannot record the zookeeper session in {}: {}; a restart will not resume it",
                    session.dataDir(), e.toString());
        } catch (Exception e) {
            LOG.warn("cannot read the zookeeper session to record it: {}", e.toString());
        }
    }

    /**
     * After a session expiry: the store has dropped every node of the old session. Each instance
     * this daemon still holds with a live deadline is registered again, with a new {@code created}
     * (PROTOCOL.md §6.4: subscribers see it go offline and come online); the others are forgotten.
     * Runs on the service's executor.
     */
    private void registerAgain(ServiceState s) {
        // The watch went with the expired session's handle: nothing to remove.
        s.ownedWatch = null;
        s.watchEpoch++;
        long now = System.nanoTime();
        for (Owned o : List.copyOf(s.owned.values())) {
            s.applyDeleted(o.addr, o.czxid);
            boolean live;
            // Under the tails lock: a heartbeat answered on a caller's thread either moved the deadline
            // before this check (the instance is registered again) or finds it forgotten (slow path).
            synchronized (s.tails) {
                live = o.deadlineNanos - now > 0;
                if (live) {
                    retain(s);
                }
                forget(s, o);
            }
            if (live) {
                String addr = o.addr;
                Map<String, String> attrs = o.attrs;
                s.serial(addr, () -> doRegister(s, addr, attrs, 0)).whenComplete((r, e) -> {
                    release(s);
                    if (e != null) {
                        LOG.warn("{} {}: not registered again after the session expiry: {}", s.name, addr,
                                asDiscovery(e).getMessage());
                    } else {
                        LOG.info("{} {}: registered again after the session expiry, created {}", s.name, addr,
                                r.instance().created());
                    }
                });
            }
        }
    }

    // ------------------------------------------------------------------ resumed session

    /** An instance node of a resumed session, as read at start. */
    private record Found(String addr, Stat stat, StoredInstance stored) {
    }

    /**
     * Adopts what a resumed session still holds: every instance node and latch participant whose
     * {@code ephemeralOwner} is {@code sid}. Each instance gets a deadline now + TTL and keeps its
     * {@code created}; its participant is kept and managed directly. Participants without an
     * instance are deleted (they would stay forever and queue before every new latch). Completes
     * {@link #adoption} in every case.
     */
    private void adoptResumedSession(long sid) {
        CompletableFuture<Map<String, Map<Long, String>>> participants = ownedChildren(leadersRoot, sid)
                .thenApply(found -> {
                    Map<String, Map<Long, String>> byService = new HashMap<>();
                    for (Map.Entry<String, List<ChildRead>> e : found.entrySet()) {
                        Map<Long, String> byCzxid = new HashMap<>();
                        for (ChildRead r : e.getValue()) {
                            byCzxid.put(r.stat().getCzxid(), r.child());
                        }
                        byService.put(e.getKey(), byCzxid);
                    }
                    return byService;
                });
        CompletableFuture<Map<String, List<ChildRead>>> instances = ownedChildren(servicesRoot, sid);
        CompletableFuture<Void> done = participants.thenCombine(instances, (parts, insts) -> {
            List<CompletableFuture<Void>> steps = new ArrayList<>();
            Set<String> names = new java.util.HashSet<>(parts.keySet());
            names.addAll(insts.keySet());
            for (String name : names) {
                ServiceState s = acquire(name);
                Map<Long, String> serviceParts = new HashMap<>(parts.getOrDefault(name, Map.of()));
                List<ChildRead> reads = insts.getOrDefault(name, List.of());
                CompletableFuture<Void> step = CompletableFuture.runAsync(() -> {
                    for (ChildRead r : reads) {
                        StoredInstance si = StoredInstance.parse(r.data());
                        if (si == null || s.owned.containsKey(r.child())) {
                            continue;
                        }
                        Owned o = new Owned(s, r.child(), serviceParts.remove(si.created()), si.created(),
                                r.stat().getCzxid(), r.stat().getVersion(), ATTRS.intern(si.attrs()));
                        adopt(s, o);
                        // Read before the watch was in place: read once more.
                        checkOwned(s, o);
                        LOG.info("{} {}: adopted from the resumed session, created {}", name, r.child(), si.created());
                    }
                    for (String orphan : serviceParts.values()) {
                        LOG.info("deleting the latch participant {}/{} left without its instance", s.leaderPath, orphan);
                        zk.delete(s.leaderPath + "/" + orphan, -1);
                    }
                }, s.executor);
                step.whenComplete((x, e) -> release(s));
                steps.add(step);
            }
            return CompletableFuture.allOf(steps.toArray(CompletableFuture[]::new));
        }).thenCompose(x -> x);
        done.orTimeout(connectionTimeout.toMillis() * 4, TimeUnit.MILLISECONDS).whenComplete((x, e) -> {
            if (e != null) {
                LOG.warn("zookeeper {}: adopting the resumed session's nodes failed: {}; instances not adopted are "
                        + "registered again by their next heartbeat", connectDescription, String.valueOf(DiscoveryException.rootCause(e)));
            }
            adoption.complete(null);
        });
    }

    /**
     * The grandchildren of {@code root} ({@code root/<name>/<child>}) whose ephemeral owner is
     * {@code sid}, with their stat and data, by name.
     */
    private CompletableFuture<Map<String, List<ChildRead>>> ownedChildren(String root, long sid) {
        return zk.getChildren(root).thenCompose(ev -> {
            Code c = AsyncZk.code(ev);
            if (c == Code.NONODE) {
                return CompletableFuture.completedFuture(Map.<String, List<ChildRead>>of());
            }
            if (c != Code.OK) {
                throw new CompletionException(storeError(c, root));
            }
            Map<String, CompletableFuture<List<ChildRead>>> perName = new HashMap<>();
            for (String name : ev.getChildren()) {
                String dir = root + "/" + name;
                perName.put(name, zk.getChildren(dir).thenCompose(ch -> {
                    if (AsyncZk.code(ch) != Code.OK) {
                        return CompletableFuture.completedFuture(List.<ChildRead>of());
                    }
                    // Read-only multis, as a view reads its service: a restarted daemon with thousands
                    // of instances per service reads them in tens of ms instead of one getData each.
                    // The answers are handed over one at a time (the event thread), completing after the last.
                    List<ChildRead> owned = new ArrayList<>();
                    return zk.readChildren(dir, ch.getChildren(), reads -> {
                        for (ChildRead r : reads) {
                            if (r.code() == Code.OK && r.stat().getEphemeralOwner() == sid) {
                                owned.add(r);
                            }
                        }
                    }).thenApply(x -> owned);
                }));
            }
            return CompletableFuture.allOf(perName.values().toArray(CompletableFuture[]::new)).thenApply(x -> {
                Map<String, List<ChildRead>> out = new HashMap<>();
                perName.forEach((name, f) -> {
                    if (!f.join().isEmpty()) {
                        out.put(name, f.join());
                    }
                });
                return out;
            });
        });
    }

    /**
     * Runs {@code task} on the service's executor. Once {@link #close()} has shut the lanes down the
     * task is dropped: late store callbacks then have nothing left to update.
     */
    private void runOn(ServiceState s, Runnable task) {
        try {
            s.executor.execute(task);
        } catch (RejectedExecutionException e) {
            LOG.debug("{}: backend closed, dropping a task", s.name);
        }
    }

    /** Schedules {@code task} on the timer; {@code null} (and nothing runs) once the backend is closed. */
    private ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
        if (closed) {
            return null;
        }
        try {
            return timer.schedule(task, delay, unit);
        } catch (RejectedExecutionException e) {
            return null; // closed meanwhile
        }
    }

    /**
     * Registers a future that must complete even if the work behind it is abandoned by
     * {@link #close()} (a timer task cancelled, a store callback that never comes): close completes it
     * with {@code StoreUnavailable("... backend closed")}.
     */
    private <T> CompletableFuture<T> track(CompletableFuture<T> f) {
        pendingFutures.add(f);
        f.whenComplete((x, e) -> pendingFutures.remove(f));
        if (closed) {
            f.completeExceptionally(unavailable("backend closed"));
        }
        return f;
    }

    private void failPendingFutures() {
        DiscoveryException e = unavailable("backend closed");
        for (CompletableFuture<?> f : List.copyOf(pendingFutures)) {
            f.completeExceptionally(e);
        }
    }

    private DiscoveryException unavailable(String why) {
        return new DiscoveryException.StoreUnavailable("zookeeper " + connectDescription + ": " + why);
    }

    private <T> CompletableFuture<T> failIfDisconnected() {
        if (closed) {
            return CompletableFuture.failedFuture(unavailable("backend closed"));
        }
        return connected ? null : CompletableFuture.failedFuture(unavailable("not connected"));
    }

    private DiscoveryException storeError(Code code, String path) {
        return unavailable(code + " on " + path);
    }

    private DiscoveryException asDiscovery(Throwable t) {
        Throwable u = DiscoveryException.rootCause(t);
        return u instanceof DiscoveryException d ? d : unavailable(String.valueOf(u));
    }

    // ------------------------------------------------------------------ register

    @Override
    public CompletionStage<Registration> register(String name, String addr, Map<String, String> attrs) {
        Optional<DiscoveryException> invalid = Validation.instanceProblem(name, addr);
        if (invalid.isPresent()) {
            return CompletableFuture.failedFuture(invalid.get());
        }
        if (closed) {
            return CompletableFuture.failedFuture(unavailable("backend closed"));
        }
        if (adoption.isDone()) {
            // A state that owns the instance is held by it, so a plain lookup suffices: no reference taken and released.
            ServiceState known;
            synchronized (services) {
                known = services.get(name);
            }
            Registration heartbeat = known == null ? null : known.heartbeatAtOwner(addr, attrs, ttl.toNanos());
            if (heartbeat != null) {
                return CompletableFuture.completedFuture(heartbeat);
            }
        }
        ServiceState s = acquire(name);
        // Not Map.copyOf: a null value must not throw here; it is stored as JSON null.
        Map<String, String> copy = attrs == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(attrs));
        CompletableFuture<Registration> result = s.serial(addr, () -> adoption.isDone() || !connected
                ? doRegister(s, addr, copy, 0)
                : adoption.thenComposeAsync(v -> doRegister(s, addr, copy, 0), s.executor));
        result.whenComplete((r, e) -> release(s));
        return track(result.exceptionallyCompose(e -> CompletableFuture.failedFuture(asDiscovery(e))));
    }

    /** Runs on the service's executor. */
    private CompletableFuture<Registration> doRegister(ServiceState s, String addr, Map<String, String> attrs, int attempt) {
        if (attempt >= MAX_ATTEMPTS) {
            return CompletableFuture.failedFuture(unavailable("too many conflicting writes on " + s.path(addr)));
        }
        Owned o = s.owned.get(addr);
        if (o != null && Objects.equals(o.attrs, attrs)) {
            // A heartbeat at the owner: no store write (works while the store is away, too).
            o.deadlineNanos = System.nanoTime() + ttl.toNanos();
            return CompletableFuture.completedFuture(registration(s, addr, attrs, o.created, Outcome.REFRESHED));
        }
        CompletableFuture<Registration> down = failIfDisconnected();
        if (down != null) {
            return down;
        }
        String path = s.path(addr);
        if (o != null) {
            byte[] data = new StoredInstance(attrs, o.created).toBytes();
            return zk.setData(path, data, o.version).thenComposeAsync(ev -> switch (AsyncZk.code(ev)) {
                case OK -> {
                    o.version = ev.getStat().getVersion();
                    o.attrs = ATTRS.intern(attrs);
                    o.deadlineNanos = System.nanoTime() + ttl.toNanos();
                    s.applyObserved(addr, ev.getStat(), data);
                    yield CompletableFuture.completedFuture(registration(s, addr, attrs, o.created, Outcome.UPDATED));
                }
                case BADVERSION -> refreshOwned(s, o).thenCompose(v -> doRegister(s, addr, attrs, attempt + 1));
                case NONODE -> {
                    // Removed meanwhile (unregistered through another daemon): register it anew.
                    gone(s, o);
                    yield doRegister(s, addr, attrs, attempt + 1);
                }
                default -> CompletableFuture.failedFuture(storeError(AsyncZk.code(ev), path));
            }, s.executor);
        }
        if (attempt == 0 && heldElsewhere.getIfPresent(path) == null) {
            // New here, as a Register for an instance not owned here usually is: create it at once.
            // A create that finds the node held elsewhere remembers it and tries again, and every
            // further attempt reads first (below).
            return createWatched(s, addr, attrs, attempt);
        }
        return zk.getData(path).thenComposeAsync(ev -> switch (AsyncZk.code(ev)) {
            case OK -> refreshForeign(s, addr, attrs, ev, attempt);
            case NONODE -> {
                heldElsewhere.invalidate(path);
                yield createWatched(s, addr, attrs, attempt);
            }
            default -> CompletableFuture.failedFuture(storeError(AsyncZk.code(ev), path));
        }, s.executor);
    }

    /**
     * {@link #create} with the service's watch requested first. ZooKeeper processes a session's
     * requests in order, so the watch is in place before the instance node exists and reports every
     * later write or delete of it by another daemon; no read of the new node is needed. When the watch
     * may have missed something meanwhile ({@link ServiceState#watchEpoch} moved) the new instance is
     * read once; when nothing is owned in the service afterwards (the create found the node held
     * elsewhere, or failed) the watch is removed. Runs on the service's executor.
     */
    private CompletableFuture<Registration> createWatched(ServiceState s, String addr, Map<String, String> attrs, int attempt) {
        int epoch = watchService(s);
        return create(s, addr, attrs, attempt).whenComplete((r, e) -> {
            if (s.watchEpoch != epoch || !s.owned.containsKey(addr)) {
                runOn(s, () -> {
                    Owned o = s.owned.get(addr);
                    if (o == null) {
                        unwatchIfUnused(s);
                    } else if (s.watchEpoch != epoch) {
                        checkOwned(s, o);
                    }
                });
            }
        });
    }

    private Registration registration(ServiceState s, String addr, Map<String, String> attrs, long created, Outcome outcome) {
        return new Registration(new Instance(s.name, addr, attrs, created), outcome);
    }

    /**
     * A Register for an instance held by another session (another daemon): a versioned write that
     * keeps {@code created}; the owner sees the version move and resets its deadline.
     */
    private CompletableFuture<Registration> refreshForeign(ServiceState s, String addr, Map<String, String> attrs,
                                                           CuratorEvent read, int attempt) {
        String path = s.path(addr);
        StoredInstance stored = StoredInstance.parse(read.getData());
        if (stored == null) {
            return CompletableFuture.failedFuture(unavailable("unreadable instance node " + path));
        }
        if (read.getStat().getEphemeralOwner() == sessionId() && !s.owned.containsKey(addr)) {
            // Our own session holds it but we lost track (e.g. a create retried after a connection
            // loss answered NODEEXISTS): own it again so that its TTL is enforced, with its latch
            // participant managed directly (LeaderLatch cannot adopt a node).
            Stat stat = read.getStat();
            heldElsewhere.invalidate(path);
            return findParticipant(s, stored.created()).thenComposeAsync(participant -> {
                if (!s.owned.containsKey(addr)) {
                    Owned mine = new Owned(s, addr, participant, stored.created(), stat.getCzxid(), stat.getVersion(),
                            ATTRS.intern(stored.attrs()));
                    adopt(s, mine);
                    // Read before the watch was in place: read once more.
                    checkOwned(s, mine);
                }
                return doRegister(s, addr, attrs, attempt + 1);
            }, s.executor);
        }
        Outcome outcome = Objects.equals(stored.attrs(), attrs) ? Outcome.REFRESHED : Outcome.UPDATED;
        byte[] data = new StoredInstance(attrs, stored.created()).toBytes();
        return zk.setData(path, data, read.getStat().getVersion()).thenComposeAsync(ev -> switch (AsyncZk.code(ev)) {
            case OK -> {
                s.applyObserved(addr, ev.getStat(), data);
                yield CompletableFuture.completedFuture(registration(s, addr, attrs, stored.created(), outcome));
            }
            case BADVERSION, NONODE -> doRegister(s, addr, attrs, attempt + 1);
            default -> CompletableFuture.failedFuture(storeError(AsyncZk.code(ev), path));
        }, s.executor);
    }

    /**
     * A new instance: its latch participant node first (its czxid is {@code created}), then the
     * instance node. The participant is created exactly as Curator's {@link LeaderLatch} creates its
     * own (protected ephemeral-sequential {@code latch-} node holding the id, here the addr), so it
     * queues with any LeaderLatch on the same path; its create answers with its czxid, so no polling
     * and no read of the latch directory are needed.
     */
    private CompletableFuture<Registration> create(ServiceState s, String addr, Map<String, String> attrs, int attempt) {
        CompletableFuture<String> participant = new CompletableFuture<>();
        CompletableFuture<Void> parents = ensureParents(s);
        return parents
                .thenCompose(x -> zk.createParticipant(s.leaderPath + "/" + LATCH_NODE_NAME, addr.getBytes(StandardCharsets.UTF_8)))
                .thenCompose(ev -> {
                    if (AsyncZk.code(ev) == Code.OK && ev.getStat() != null) {
                        // The usual answer: the instance node's create goes out at once, from the store's
                        // callback thread. It reads no service state (only its own arguments) and its
                        // answer is handled on the executor: one hop to the executor fewer per registration.
                        participant.complete(ev.getName());
                        return createInstance(s, addr, attrs, attempt, ev.getStat().getCzxid(), ev.getName(), parents);
                    }
                    return CompletableFuture.supplyAsync(() -> participantAnswered(s, addr, attrs, attempt, ev, participant, parents),
                            s.executor).thenCompose(r -> r);
                })
                .whenComplete((r, e) -> {
                    if (e != null && participant.isDone()) {
                        deleteParticipant(participant.join());
                    }
                });
    }

    /** Every answer to a participant's create but a plain success with a stat ({@link #create}). Executor. */
    private CompletableFuture<Registration> participantAnswered(ServiceState s, String addr, Map<String, String> attrs,
                                                                int attempt, CuratorEvent ev, CompletableFuture<String> participant,
                                                                CompletableFuture<Void> parents) {
        Code code = AsyncZk.code(ev);
        if (code == Code.NONODE) {
            // The leader directory was deleted by the server (an empty container) after it was
            // ensured: ensure it again.
            parentsGone(s, parents);
            return doRegister(s, addr, attrs, attempt + 1);
        }
        if (code != Code.OK) {
            return CompletableFuture.failedFuture(storeError(code, s.leaderPath));
        }
        participant.complete(ev.getName());
        // A protected create recovered after a connection loss may answer without a stat.
        return zk.exists(ev.getName()).thenCompose(x -> {
            if (AsyncZk.code(x) != Code.OK || x.getStat() == null) {
                return CompletableFuture.failedFuture(storeError(AsyncZk.code(x), ev.getName()));
            }
            return createInstance(s, addr, attrs, attempt, x.getStat().getCzxid(), ev.getName(), parents);
        });
    }

    /**
     * The instance node of a new instance whose participant {@code participant} (a path) has czxid
     * {@code created}. Sends the create from the calling thread (any thread: it reads only its
     * arguments); its answer is handled on the service's executor.
     */
    private CompletableFuture<Registration> createInstance(ServiceState s, String addr, Map<String, String> attrs, int attempt,
                                                           long created, String participant, CompletableFuture<Void> parents) {
        String path = s.path(addr);
        byte[] data = new StoredInstance(attrs, created).toBytes();
        return zk.createEphemeral(path, data).thenComposeAsync(c -> switch (AsyncZk.code(c)) {
            case OK -> {
                Stat stat = c.getStat();
                Owned o = new Owned(s, addr, ZKPaths.getNodeFromPath(participant), created,
                        stat.getCzxid(), stat.getVersion(), ATTRS.intern(attrs));
                adopt(s, o);
                s.applyObserved(addr, stat, data);
                yield CompletableFuture.completedFuture(registration(s, addr, attrs, created, Outcome.CREATED));
            }
            case NODEEXISTS -> zk.exists(path).thenComposeAsync(ex -> {
                if (AsyncZk.code(ex) == Code.OK && ex.getStat().getEphemeralOwner() == sessionId()) {
                    // Our own session's node: a create Curator retried after a connection loss had
                    // succeeded. Its data carries this participant's czxid: keep it (the read path adopts both).
                    return doRegister(s, addr, attrs, attempt + 1);
                }
                // Held by another daemon: this Register is a refresh of that one.
                heldElsewhere.put(path, Boolean.TRUE);
                deleteParticipant(participant);
                return doRegister(s, addr, attrs, attempt + 1);
            }, s.executor);
            case NONODE -> {
                // The service directory was deleted by the server (an empty container) after it
                // was ensured: ensure it again.
                deleteParticipant(participant);
                parentsGone(s, parents);
                yield doRegister(s, addr, attrs, attempt + 1);
            }
            default -> CompletableFuture.failedFuture(storeError(AsyncZk.code(c), path));
        }, s.executor);
    }

    /**
     * The service's instance and leader directories, created (as containers) at most once per
     * service state rather than before every create; concurrent first registrations share the one
     * attempt. Runs on the service's executor.
     */
    private CompletableFuture<Void> ensureParents(ServiceState s) {
        CompletableFuture<Void> p = s.parents;
        if (p == null || p.isCompletedExceptionally()) {
            p = ensureDir(s.leaderPath, 0).thenCombine(ensureDir(s.servicePath, 0), (a, b) -> null);
            s.parents = p;
        }
        return p;
    }

    /** A create under the service's directories answered NONODE: the next create ensures them again. Executor. */
    private static void parentsGone(ServiceState s, CompletableFuture<Void> parents) {
        if (s.parents == parents) {
            s.parents = null;
        }
    }

    /** Creates {@code path} and its missing ancestors as containers, asynchronously; an existing node is fine. */
    private CompletableFuture<Void> ensureDir(String path, int attempt) {
        return zk.createContainer(path).thenCompose(ev -> {
            Code code = AsyncZk.code(ev);
            if (code == Code.OK || code == Code.NODEEXISTS) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            if (code == Code.NONODE && attempt < MAX_ATTEMPTS) {
                return ensureDir(ZKPaths.getPathAndNode(path).getPath(), 0).thenCompose(x -> ensureDir(path, attempt + 1));
            }
            return CompletableFuture.<Void>failedFuture(storeError(code, path));
        });
    }

    /** Deletes a latch participant node of this daemon's session (a path), unless the backend is closed. */
    private void deleteParticipant(String path) {
        if (!closed) {
            zk.delete(path, -1);
        }
    }

    /**
     * Takes ownership: a service reference, a deadline, and the service's watch for writes by other
     * daemons (already requested before a create; a caller that read the node before the watch was
     * requested reads it again with {@link #checkOwned}).
     */
    private void adopt(ServiceState s, Owned o) {
        retain(s);
        s.owned.put(o.addr, o);
        o.deadlineNanos = System.nanoTime() + ttl.toNanos();
        o.creditedOutage = lastOutageEndedAtNanos;
        scheduleExpiry(s, o);
        watchService(s);
    }

    /** Forgets an owned instance (its node is gone or going): deletes its participant, stops its deadline. */
    private void forget(ServiceState s, Owned o) {
        if (s.owned.remove(o.addr, o)) {
            unwatchIfUnused(s);
            dequeueExpiry(o);
            if (o.participant != null) {
                // Ours to delete: a stale participant would never go away while the session lives.
                deleteParticipant(s.leaderPath + "/" + o.participant);
            }
            release(s);
        }
    }

    /** An owned instance's node is gone from the store: the view drops it and this daemon forgets it. */
    private void gone(ServiceState s, Owned o) {
        s.applyDeleted(o.addr, o.czxid);
        forget(s, o);
    }

    /**
     * Another daemon wrote an owned instance's node (its Register is a heartbeat for us, ARCHITECTURE.md
     * "Liveness"): take the new version and attrs, and reset the deadline.
     */
    private void acceptForeignWrite(Owned o, Stat stat, byte[] data) {
        o.version = stat.getVersion();
        StoredInstance si = StoredInstance.parse(data);
        if (si != null) {
            o.attrs = ATTRS.intern(si.attrs());
        }
        o.deadlineNanos = System.nanoTime() + ttl.toNanos();
    }

    /** Takes one more reference on a service already held. */
    private void retain(ServiceState s) {
        synchronized (services) {
            s.refs++;
        }
    }

    private long sessionId() {
        try {
            return client.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            return -1;
        }
    }

    /**
     * Requests the service's watch unless it has one (the request goes out before any request sent
     * after this call); returns the service's {@link ServiceState#watchEpoch}. Runs on the executor.
     */
    private int watchService(ServiceState s) {
        if (s.ownedWatch == null && !closed) {
            OwnedWatcher w = new OwnedWatcher(s);
            s.ownedWatch = w;
            s.watchEpoch++;
            zk.addPersistentRecursiveWatch(s.servicePath, w).whenComplete((ev, e) -> {
                Code code = e == null ? AsyncZk.code(ev) : Code.CONNECTIONLOSS;
                if (code != Code.OK) {
                    runOn(s, () -> watchFailed(s, w, code));
                }
            });
        }
        return s.watchEpoch;
    }

    /**
     * The watch request failed: events may be missed. After a connection loss the watch is requested
     * again and every owned instance read once, when the connection is back (the reconnection does it
     * if it comes later). A server that refuses the request (ZooKeeper before 3.6) gets it again only
     * with the next instance adopted here. Runs on the executor.
     */
    private void watchFailed(ServiceState s, OwnedWatcher w, Code code) {
        if (s.ownedWatch != w || closed) {
            return;
        }
        s.ownedWatch = null;
        s.watchEpoch++;
        if (code != Code.CONNECTIONLOSS && code != Code.OPERATIONTIMEOUT && code != Code.SESSIONEXPIRED) {
            LOG.warn("{}: the store refused to watch {} ({}); a write or delete of its instances through another "
                    + "daemon is noticed only at their expiry", s.name, s.servicePath, code);
            return;
        }
        LOG.debug("{}: watching {} failed ({}); retrying", s.name, s.servicePath, code);
        schedule(() -> runOn(s, () -> {
            if (s.ownedWatch == null && connected) {
                recheckOwned(s);
            }
        }), RETRY_MS, TimeUnit.MILLISECONDS);
    }

    /** Removes the service's watch once it owns nothing. Runs on the executor. */
    private void unwatchIfUnused(ServiceState s) {
        OwnedWatcher w = s.ownedWatch;
        if (w != null && s.owned.isEmpty()) {
            s.ownedWatch = null;
            s.watchEpoch++;
            if (!closed) {
                zk.removePersistentRecursiveWatch(s.servicePath, w);
            }
        }
    }

    /**
     * Events may have been missed (a reconnection, a failed watch request): makes sure the watch is
     * in place, then reads each owned instance once. Runs on the executor.
     */
    private void recheckOwned(ServiceState s) {
        s.watchEpoch++;
        if (s.owned.isEmpty()) {
            return;
        }
        watchService(s);
        for (Owned o : List.copyOf(s.owned.values())) {
            checkOwned(s, o);
        }
    }

    /**
     * Reads an owned instance's node: gone or replaced (unregistered through another daemon) means
     * forgotten, with its participant deleted; a new version (a Register through another daemon) is
     * a heartbeat. Runs on the executor.
     */
    private void checkOwned(ServiceState s, Owned o) {
        zk.getData(s.path(o.addr)).thenAcceptAsync(ev -> {
            if (s.owned.get(o.addr) != o) {
                return;
            }
            Code code = AsyncZk.code(ev);
            if (code == Code.NONODE || (code == Code.OK && ev.getStat().getCzxid() != o.czxid)) {
                gone(s, o);
            } else if (code == Code.OK && ev.getStat().getVersion() != o.version) {
                acceptForeignWrite(o, ev.getStat(), ev.getData());
            }
        }, s.executor);
    }

    /**
     * The service's persistent recursive watch: a write or delete of a node this daemon owns sends
     * it to {@link #checkOwned}. Its own writes come back too; the read then finds nothing new (an
     * acknowledged write is applied on the executor before the read's answer). Creates are ignored: a
     * node owned here can only be created again after a delete, which is reported first.
     */
    private final class OwnedWatcher implements Watcher {
        private final ServiceState s;

        OwnedWatcher(ServiceState s) {
            this.s = s;
        }

        @Override
        public void process(WatchedEvent event) {
            Watcher.Event.EventType type = event.getType();
            if (closed || (type != Watcher.Event.EventType.NodeDataChanged && type != Watcher.Event.EventType.NodeDeleted)) {
                return;
            }
            String path = event.getPath();
            int dir = s.servicePath.length();
            if (path == null || path.length() <= dir + 1 || path.charAt(dir) != '/' || !path.startsWith(s.servicePath)
                    || path.indexOf('/', dir + 1) >= 0) {
                return;
            }
            String addr = path.substring(dir + 1);
            // Checked on the executor: an instance whose create was just acknowledged is adopted there.
            runOn(s, () -> {
                Owned o = s.owned.get(addr);
                if (s.ownedWatch == this && o != null) {
                    checkOwned(s, o);
                }
            });
        }
    }

    /** Re-reads an owned node after a version conflict; the conflicting write was a refresh. */
    private CompletableFuture<Void> refreshOwned(ServiceState s, Owned o) {
        return zk.getData(s.path(o.addr)).thenAcceptAsync(ev -> {
            if (AsyncZk.code(ev) == Code.OK && ev.getStat().getCzxid() == o.czxid) {
                acceptForeignWrite(o, ev.getStat(), ev.getData());
            } else if (AsyncZk.code(ev) == Code.NONODE || AsyncZk.code(ev) == Code.OK) {
                gone(s, o);
            }
        }, s.executor);
    }

    // ------------------------------------------------------------------ expiry

    private void scheduleExpiry(ServiceState s, Owned o) {
        enqueueExpiry(o, o.deadlineNanos);
    }

    private void retryExpiry(ServiceState s, Owned o) {
        enqueueExpiry(o, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100));
    }

    /**
     * Queues a check of {@code o}'s deadline at {@code dueNanos}. Heartbeats only move the deadline;
     * the check then finds it not reached and queues the next one, so the queue changes once per TTL
     * at most per instance, not per heartbeat.
     */
    private void enqueueExpiry(Owned o, long dueNanos) {
        if (closed) {
            return;
        }
        synchronized (expiries) {
            expiries.remove(o); // its due time is its key: never change it while queued
            o.dueNanos = dueNanos;
            o.dueSeq = ++dueSeq;
            expiries.add(o);
            armSweep(dueNanos);
        }
    }

    private void dequeueExpiry(Owned o) {
        synchronized (expiries) {
            expiries.remove(o);
        }
    }

    /** Makes sure a sweep runs no later than {@code dueNanos}; holds the {@link #expiries} lock. */
    private void armSweep(long dueNanos) {
        if (sweep != null && sweepAtNanos - dueNanos <= 0) {
            return;
        }
        if (sweep != null) {
            sweep.cancel(false);
        }
        sweepAtNanos = dueNanos;
        sweep = schedule(this::sweep, Math.max(0, dueNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /**
     * Runs on the timer thread: hands every instance whose check is due to its service's executor,
     * then arms the next sweep for the earliest one left.
     */
    private void sweep() {
        List<Owned> due = new ArrayList<>();
        synchronized (expiries) {
            sweep = null;
            long now = System.nanoTime();
            while (!expiries.isEmpty() && expiries.first().dueNanos - now <= 0) {
                due.add(expiries.pollFirst());
            }
            if (!expiries.isEmpty()) {
                armSweep(expiries.first().dueNanos);
            }
        }
        for (Owned o : due) {
            o.service.serial(o.addr, () -> checkExpiry(o.service, o));
        }
    }

    /** Runs on the service's executor when a deadline may have passed. */
    private CompletableFuture<Void> checkExpiry(ServiceState s, Owned o) {
        if (closed || s.owned.get(o.addr) != o) {
            return CompletableFuture.completedFuture(null);
        }
        // Read before crediting: an outage that ended before the store was seen back is then credited.
        boolean up = connected;
        credit(o);
        if (System.nanoTime() < o.deadlineNanos) {
            scheduleExpiry(s, o);
            return CompletableFuture.completedFuture(null);
        }
        if (!up) {
            // Nothing expires because the store was away: retry once it is back.
            retryExpiry(s, o);
            return CompletableFuture.completedFuture(null);
        }
        String path = s.path(o.addr);
        return zk.delete(path, o.version).thenComposeAsync(ev -> {
            switch (AsyncZk.code(ev)) {
                case OK, NONODE -> {
                    if (AsyncZk.code(ev) == Code.OK) {
                        LOG.info("expired {} {} (no Register for {} ms)", s.name, o.addr, ttl.toMillis());
                    }
                    gone(s, o);
                }
                case BADVERSION -> {
                    // A refresh through another daemon raced the expiry and wins.
                    return refreshOwned(s, o).thenRun(() -> {
                        if (s.owned.get(o.addr) == o) {
                            scheduleExpiry(s, o);
                        }
                    });
                }
                default -> retryExpiry(s, o);
            }
            return CompletableFuture.completedFuture(null);
        }, s.executor).exceptionally(e -> {
            retryExpiry(s, o);
            return null;
        });
    }

    // ------------------------------------------------------------------ unregister

    @Override
    public CompletionStage<Void> unregister(String name, String addr) {
        Optional<DiscoveryException> invalid = Validation.instanceProblem(name, addr);
        if (invalid.isPresent()) {
            return CompletableFuture.failedFuture(invalid.get());
        }
        if (closed) {
            return CompletableFuture.failedFuture(unavailable("backend closed"));
        }
        ServiceState s = acquire(name);
        CompletableFuture<Void> result = s.serial(addr, () -> doUnregister(s, addr, 0));
        result.whenComplete((r, e) -> release(s));
        return track(result.exceptionallyCompose(e -> CompletableFuture.failedFuture(asDiscovery(e))));
    }

    private CompletableFuture<Void> doUnregister(ServiceState s, String addr, int attempt) {
        CompletableFuture<Void> down = failIfDisconnected();
        if (down != null) {
            return down;
        }
        if (attempt >= MAX_ATTEMPTS) {
            return CompletableFuture.failedFuture(unavailable("too many conflicting writes on " + s.path(addr)));
        }
        String path = s.path(addr);
        return zk.getData(path).thenComposeAsync(ev -> {
            Code code = AsyncZk.code(ev);
            Owned o = s.owned.get(addr);
            if (code == Code.NONODE || (code == Code.OK && ev.getStat() == null)) {
                if (o != null) {
                    gone(s, o);
                }
                return CompletableFuture.<Void>failedFuture(new DiscoveryException.InstanceNotFound(path));
            }
            if (code != Code.OK) {
                return CompletableFuture.<Void>failedFuture(storeError(code, path));
            }
            Stat stat = ev.getStat();
            return zk.delete(path, stat.getVersion()).thenComposeAsync(d -> switch (AsyncZk.code(d)) {
                case OK -> {
                    heldElsewhere.invalidate(path);
                    s.applyDeleted(addr, stat.getCzxid());
                    Owned mine = s.owned.get(addr);
                    if (mine != null && mine.czxid == stat.getCzxid()) {
                        forget(s, mine);
                    }
                    // Another daemon's instance: its participant is left to that daemon, which
                    // deletes it when its watch sees the node go (or, if it is down, when it resumes
                    // its session; if it never does, the session's end removes it). The participant
                    // is found by czxid, which only the owner keeps.
                    yield CompletableFuture.<Void>completedFuture(null);
                }
                case NONODE, BADVERSION -> doUnregister(s, addr, attempt + 1);
                default -> CompletableFuture.<Void>failedFuture(storeError(AsyncZk.code(d), path));
            }, s.executor);
        }, s.executor);
    }

    /** The name of the latch participant of {@code name} whose czxid is {@code created}, or {@code null}. */
    private CompletableFuture<String> findParticipant(ServiceState s, long created) {
        return zk.getChildren(s.leaderPath).thenCompose(ev -> {
            if (AsyncZk.code(ev) != Code.OK) {
                return CompletableFuture.completedFuture(null);
            }
            List<CompletableFuture<String>> checks = new ArrayList<>();
            for (String child : ev.getChildren()) {
                checks.add(zk.exists(s.leaderPath + "/" + child).thenApply(x -> AsyncZk.code(x) == Code.OK && x.getStat() != null
                        && x.getStat().getCzxid() == created ? child : null));
            }
            return CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new))
                    .thenApply(x -> checks.stream().map(CompletableFuture::join).filter(Objects::nonNull).findFirst().orElse(null));
        }).exceptionally(e -> null);
    }

    // ------------------------------------------------------------------ subscribe

    /**
     * {@inheritDoc}
     *
     * <p>ZooKeeper: the snapshot needs a barrier: a {@code sync} and a marker when the service's view
     * has followed the store on the current connection (an open or lingering view, or a new one once
     * its first load is applied), else a {@code sync} and a read of the service ({@link #snapshotBarrier}). A
     * subscription that cannot have it gets {@code current()} then {@code failed(StoreUnavailable)}
     * naming the connect string (PROTOCOL.md §5.5.4: never silent): at once while the store is
     * unreachable, else when the barrier has not succeeded within {@code connectionTimeout}. A
     * subscription already attached is not failed by an outage: it resynchronises on reconnection.
     */
    @Override
    public Subscription subscribe(String name, SubscriptionListener listener) {
        Objects.requireNonNull(listener, "listener");
        if (!Validation.isValidSegment(name)) {
            GuardedSubscription sub = new GuardedSubscription(String.valueOf(name), listener, x -> { });
            CompletableFuture.runAsync(sub::current);
            return sub;
        }
        if (closed) {
            GuardedSubscription sub = new GuardedSubscription(name, listener, x -> { });
            CompletableFuture.runAsync(() -> sub.fail(unavailable("backend closed")));
            return sub;
        }
        ServiceState s = acquire(name);
        GuardedSubscription sub = new GuardedSubscription(name, listener, x -> {
            if (!closed) { // after close() the views are gone and the lanes are shut down
                runOn(s, () -> detach(s, x));
            }
        });
        runOn(s, () -> {
            if (sub.isClosed()) {
                return; // detach releases
            }
            if (closed || !connected) {
                sub.fail(unavailable(closed ? "backend closed" : "not connected"));
                return;
            }
            if (s.view == null) {
                // Read before the view sends its watch: a connection change in between then shows.
                int generation = connectionGeneration;
                s.view = new ServiceView(name, s.servicePath, client, zk, s.executor, v -> {
                    if (s.view == v) {
                        resync(s, v);
                    }
                });
                s.viewGeneration = generation;
            } else {
                endLinger(s);
            }
            ServiceView v = s.view;
            v.addPending(sub);
            long deadline = System.nanoTime() + connectionTimeout.toNanos();
            // Bounds the wait even when a barrier call hangs instead of failing.
            schedule(() -> runOn(s, () -> giveUp(v, sub, "no snapshot within " + connectionTimeout.toMillis() + " ms")),
                    connectionTimeout.toMillis(), TimeUnit.MILLISECONDS);
            attachAfterBarrier(s, v, sub, deadline);
        });
        return sub;
    }

    /** Fails a subscription still waiting for its barrier; runs on the service's executor. */
    private void giveUp(ServiceView v, GuardedSubscription sub, String why) {
        if (v.removePending(sub)) {
            LOG.info("subscription to {} failed: {}", sub.name(), why);
            sub.fail(unavailable(why));
        }
    }

    private void attachAfterBarrier(ServiceState s, ServiceView v, GuardedSubscription sub, long deadlineNanos) {
        snapshotBarrier(s, v).whenCompleteAsync((x, e) -> {
            if (sub.isClosed() || v.isClosed() || closed) {
                return;
            }
            if (e != null) {
                if (!connected) {
                    giveUp(v, sub, "not connected");
                } else if (System.nanoTime() >= deadlineNanos) {
                    giveUp(v, sub, "no snapshot within " + connectionTimeout.toMillis() + " ms: " + asDiscovery(e).getMessage());
                } else {
                    LOG.debug("snapshot of {} not readable yet ({}); retrying", s.name, DiscoveryException.rootCause(e).toString());
                    schedule(() -> runOn(s, () -> attachAfterBarrier(s, v, sub, deadlineNanos)), RETRY_MS, TimeUnit.MILLISECONDS);
                }
                return;
            }
            v.attach(sub);
        }, s.executor);
    }

    private void detach(ServiceState s, GuardedSubscription sub) {
        ServiceView v = s.view;
        if (v != null && v.detach(sub)) {
            if (startLinger(s)) {
                return; // the subscription's reference on the service passes to the linger
            }
            v.close();
            s.view = null;
        }
        release(s);
    }

    /**
     * Keeps a view without subscribers open for {@link #viewLinger}, so that a resubscription (a
     * client reconnecting, or subscribing for a moment as the Go client's helpers do) is served from
     * memory instead of a new view reading the whole service. At most {@link #MAX_LINGERING} views
     * linger at a time (each holds its service's instances); a linger holds one reference on the
     * service state, released by {@link #endLinger} or when the timer closes the view; the backend's
     * close closes lingering views with the others. Runs on the service's executor.
     *
     * @return whether the view lingers (else the caller closes it)
     */
    private boolean startLinger(ServiceState s) {
        long lingerMs = viewLinger.toMillis();
        if (closed || lingerMs <= 0) {
            return false;
        }
        if (lingering.incrementAndGet() > MAX_LINGERING) {
            lingering.decrementAndGet();
            return false;
        }
        Object token = new Object();
        ScheduledFuture<?> timer = schedule(() -> runOn(s, () -> {
            if (s.lingerToken == token) {
                ServiceView v = s.view;
                s.view = null;
                if (v != null) { // else the backend's close has closed it
                    v.close();
                }
                endLinger(s);
            }
        }), lingerMs, TimeUnit.MILLISECONDS);
        if (timer == null) {
            lingering.decrementAndGet();
            return false;
        }
        s.lingerToken = token;
        s.lingerTimer = timer;
        return true;
    }

    /** Ends the service's linger, if any (a new subscriber arrived, or its time is up). Executor. */
    private void endLinger(ServiceState s) {
        if (s.lingerToken != null) {
            s.lingerToken = null;
            s.lingerTimer.cancel(false);
            s.lingerTimer = null;
            lingering.decrementAndGet();
            release(s);
        }
    }

    /** How many views are open now, lingering ones included (tests). */
    int openViews() {
        int n = 0;
        for (ServiceState s : allServices()) {
            boolean open;
            try {
                open = CompletableFuture.supplyAsync(() -> s.view != null && !s.view.isClosed(), s.executor).join();
            } catch (RejectedExecutionException e) {
                open = s.view != null && !s.view.isClosed(); // closed: no task runs any more
            }
            if (open) {
                n++;
            }
        }
        return n;
    }

    /** Sets how long a view without subscribers stays open ({@link #startLinger}); zero closes it at once. */
    void setViewLinger(Duration linger) {
        this.viewLinger = linger;
    }

    /**
     * The barrier before a new subscriber's snapshot. When the view has followed the store without
     * a connection loss since its last full read (or since its view started), a {@link #marker}
     * suffices: every change acknowledged before the subscribe has then reached the view, and no
     * node is read again. Otherwise (the connection moved, or the view's first load failed or does not end in
     * time), the full {@link #barrier} reads the service. Completes on the service's executor.
     */
    private CompletableFuture<Void> snapshotBarrier(ServiceState s, ServiceView v) {
        int base = s.viewGeneration;
        return s.markers.join().thenComposeAsync(generation -> {
            if (v.isClosed() || generation == -1 || generation != base || s.view != v) {
                return barrier(s, v);
            }
            if (v.isComplete()) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            // The first load is still under way (or failed): wait for it, but not forever (a read
            // Curator retries across a connection loss may answer late).
            CompletableFuture<Boolean> loaded = new CompletableFuture<>();
            v.loaded().thenAccept(loaded::complete);
            ScheduledFuture<?> t = schedule(() -> runOn(s, () -> loaded.complete(false)),
                    connectionTimeout.toMillis() / 2, TimeUnit.MILLISECONDS);
            return loaded.thenComposeAsync(ok -> {
                if (t != null) {
                    t.cancel(false);
                }
                return ok && v.isComplete() && s.viewGeneration == base ? CompletableFuture.<Void>completedFuture(null) : barrier(s, v);
            }, s.executor);
        }, s.executor);
    }

    /**
     * A read-your-writes marker without reading the service: a {@code sync}, then (sent from the
     * sync's callback) an {@code exists} of the service, then (from its callback) a hop onto the
     * service's executor.
     *
     * <p>Why it suffices: the server sends the watch notifications of every change it applied
     * before answering the sync ahead of the sync's answer; the view's watcher, called on the same
     * event thread, has therefore sent its read of every changed node before the {@code exists} is
     * sent, so those reads are answered first, and handed to the executor (from the event thread)
     * before the marker. All of this holds on one connection only: the result is the connection
     * generation seen by both callbacks, or -1 when they differ.
     */
    private CompletableFuture<Integer> marker(ServiceState s) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        int[] atSync = {-1};
        zk.sync(s.servicePath).thenCompose(sync -> {
            Code c = AsyncZk.code(sync);
            if (c != Code.OK && c != Code.NONODE) {
                throw new CompletionException(storeError(c, s.servicePath));
            }
            atSync[0] = connectionGeneration; // on the ZooKeeper event thread, as are generation changes
            return zk.exists(s.servicePath);
        }).whenComplete((ev, e) -> {
            if (e != null) {
                done.completeExceptionally(e);
                return;
            }
            Code c = AsyncZk.code(ev);
            if (c != Code.OK && c != Code.NONODE) {
                done.completeExceptionally(storeError(c, s.servicePath));
                return;
            }
            int generation = atSync[0] == connectionGeneration ? atSync[0] : -1;
            runOn(s, () -> done.complete(generation));
        });
        return done;
    }

    private void resync(ServiceState s, ServiceView v) {
        barrier(s, v).whenCompleteAsync((x, e) -> {
            // While disconnected, retrying only fails (and logs); the view's watch, set again on reconnection, resyncs it.
            if (e != null && !v.isClosed() && !closed && connected) {
                schedule(() -> runOn(s, () -> {
                    if (s.view == v) {
                        resync(s, v);
                    }
                }), RETRY_MS, TimeUnit.MILLISECONDS);
            }
        }, s.executor);
    }

    /**
     * Read-your-writes barrier: {@code sync}, then a direct read of the service (children, then each
     * child's data), reconciled into the view on its executor; instances the view holds but the read
     * lacks are checked and removed if gone. Completes (on the executor) once the view reflects every
     * write acknowledged before the barrier started.
     */
    private CompletableFuture<Void> barrier(ServiceState s, ServiceView v) {
        long token = v.barrierStarted();
        int[] atSync = {-1};
        // Each answer is applied as it arrives, in the store's order with the watch's events: a read
        // answered before a delete's event is applied before it (the view then holds what is deleted).
        CompletableFuture<Void> done = readService(s, atSync, present -> runOn(s, () -> {
            for (ChildRead r : present) {
                v.observed(r.child(), r.stat(), r.data());
            }
        })).thenComposeAsync(reads -> {
            if (v.isClosed()) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            // Read after the sync on one connection: the view is complete as of then, and the watch
            // (set again before a view reads its service again, ServiceView#watchSet) has been in place since.
            int generation = atSync[0] == connectionGeneration ? atSync[0] : -1;
            Set<String> read = new HashSet<>();
            for (ChildRead r : reads) {
                read.add(r.child());
            }
            List<CompletableFuture<Void>> checks = new ArrayList<>();
            for (Map.Entry<String, ServiceView.Entry> e : v.entries().entrySet()) {
                if (!read.contains(e.getKey())) {
                    String addr = e.getKey();
                    long czxid = e.getValue().czxid();
                    // Absent from the read: gone, or created after the read. Ask the store.
                    checks.add(zk.exists(s.path(addr)).thenAcceptAsync(ev -> {
                        Code code = AsyncZk.code(ev);
                        if (code == Code.NONODE || (code == Code.OK && (ev.getStat() == null || ev.getStat().getCzxid() != czxid))) {
                            v.deleted(addr, czxid);
                        } else if (code != Code.OK) {
                            throw new CompletionException(storeError(code, s.path(addr)));
                        }
                    }, s.executor));
                }
            }
            return CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new)).thenRunAsync(() -> {
                if (generation != -1 && s.view == v) {
                    s.viewGeneration = generation;
                    v.barrierApplied();
                }
            }, s.executor);
        }, s.executor);
        // Once its reads are applied (or abandoned) the barrier no longer pins tombstones.
        done.whenComplete((x, e) -> runOn(s, () -> v.barrierEnded(token)));
        return done;
    }

    /**
     * sync + getChildren + the children's data in read-only multis ({@link AsyncZk#readChildren}): the
     * reads of the nodes present (a node gone since it was listed is left out); a missing service is empty.
     */
    private CompletableFuture<List<ChildRead>> readService(ServiceState s) {
        return readService(s, new int[1], reads -> { });
    }

    /**
     * As {@link #readService(ServiceState)}; stores the connection generation at the sync's answer in
     * {@code atSync[0]}, and gives {@code onAnswer} each answer's reads of the nodes present as it arrives,
     * on the ZooKeeper event thread (in order with the watch events; see {@link AsyncZk#readChildren}).
     */
    private CompletableFuture<List<ChildRead>> readService(ServiceState s, int[] atSync, Consumer<List<ChildRead>> onAnswer) {
        return zk.sync(s.servicePath)
                .thenCompose(sync -> {
                    Code c = AsyncZk.code(sync);
                    if (c != Code.OK && c != Code.NONODE) {
                        throw new CompletionException(storeError(c, s.servicePath));
                    }
                    atSync[0] = connectionGeneration;
                    return zk.getChildren(s.servicePath);
                })
                .thenCompose(ev -> {
                    Code c = AsyncZk.code(ev);
                    if (c == Code.NONODE) {
                        return CompletableFuture.completedFuture(List.<ChildRead>of());
                    }
                    if (c != Code.OK) {
                        throw new CompletionException(storeError(c, s.servicePath));
                    }
                    List<ChildRead> present = Collections.synchronizedList(new ArrayList<>(ev.getChildren().size()));
                    return zk.readChildren(s.servicePath, ev.getChildren(), answer -> {
                        List<ChildRead> found = new ArrayList<>(answer.size());
                        for (ChildRead r : answer) {
                            if (r.code() == Code.OK) {
                                found.add(r);
                            } else if (r.code() != Code.NONODE) {
                                throw new CompletionException(storeError(r.code(), s.path(r.child())));
                            }
                        }
                        present.addAll(found);
                        onAnswer.accept(found);
                    }).thenApply(x -> List.copyOf(present));
                });
    }

    // ------------------------------------------------------------------ leader

    @Override
    public CompletionStage<Optional<Instance>> leader(String name) {
        if (!Validation.isValidSegment(name)) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        CompletableFuture<Optional<Instance>> down = failIfDisconnected();
        if (down != null) {
            return down;
        }
        ServiceState s = acquire(name);
        CompletableFuture<Optional<Instance>> result = readService(s).thenApply(reads -> {
            Instance best = null;
            for (ChildRead r : reads) {
                StoredInstance si = StoredInstance.parse(r.data());
                if (si != null && (best == null || Long.compareUnsigned(si.created(), best.created()) < 0)) {
                    best = new Instance(name, r.child(), si.attrs(), si.created());
                }
            }
            return Optional.ofNullable(best);
        });
        result.whenComplete((r, e) -> release(s));
        CompletableFuture<Optional<Instance>> answer =
                track(result.exceptionallyCompose(e -> CompletableFuture.failedFuture(asDiscovery(e))));
        // Curator retries a read across a connection loss; the caller gets an answer within the timeout.
        ScheduledFuture<?> timeout = schedule(
                () -> answer.completeExceptionally(unavailable("no answer within " + connectionTimeout.toMillis() + " ms")),
                connectionTimeout.toMillis(), TimeUnit.MILLISECONDS);
        if (timeout != null) {
            answer.whenComplete((r, e) -> timeout.cancel(false));
        }
        return answer;
    }

    /** How many tombstones the view of {@code name} holds; -1 without a view (tests). */
    int tombstoneCount(String name) {
        ServiceState s;
        synchronized (services) {
            s = services.get(name);
        }
        if (s == null) {
            return -1;
        }
        return CompletableFuture.supplyAsync(() -> s.view == null ? -1 : s.view.tombstoneCount(), s.executor).join();
    }

    // ------------------------------------------------------------------ misc

    @Override
    public boolean isConnected() {
        return connected && !closed;
    }

    @Override
    public String describe() {
        return "zookeeper " + connectDescription;
    }

    /** How many tasks wait on the backend's timer now (tests: deadlines must not cost a task each). */
    int pendingTimerTasks() {
        return timer.getQueue().size();
    }

    /** The Curator client (tests inject faults through it). */
    CuratorFramework client() {
        return client;
    }

    /**
     * Whether an owned instance's latch participant leads its latch queue now, by the rule
     * Curator's {@link LeaderLatch} applies (the participant with the lowest sequence number leads);
     * empty when this daemon does not own the instance. Blocks on store reads (tests only).
     */
    Optional<Boolean> latchLeadership(String name, String addr) {
        Optional<String> found = onOwned(name, addr, o -> String.valueOf(o.participant));
        if (found.isEmpty()) {
            return Optional.empty();
        }
        String ours = found.get();
        String leaderPath = leadersRoot + "/" + name;
        List<String> children = zk.getChildren(leaderPath).thenApply(ev -> AsyncZk.code(ev) == Code.OK
                ? ev.getChildren() : List.<String>of()).join();
        List<String> sorted = LockInternals.getSortedChildren(LATCH_NODE_NAME, SORTER, children);
        return Optional.of(!sorted.isEmpty() && sorted.get(0).equals(ours));
    }

    /**
     * The node version this daemon knows for an instance it owns; empty when it does not own it.
     * Blocks until the service's executor answers (tests only).
     */
    Optional<Integer> ownedVersion(String name, String addr) {
        return onOwned(name, addr, o -> o.version);
    }

    /** Reads an owned instance on its service's executor and waits for the answer; empty when not owned (tests only). */
    private <T> Optional<T> onOwned(String name, String addr, java.util.function.Function<Owned, T> read) {
        ServiceState s;
        synchronized (services) {
            s = services.get(name);
        }
        if (s == null) {
            return Optional.empty();
        }
        return CompletableFuture.supplyAsync(() -> Optional.ofNullable(s.owned.get(addr)).map(read), s.executor).join();
    }

    /** Orders participants by sequence number, as {@link LeaderLatch} does. */
    private static final LockInternalsSorter SORTER = StandardLockInternalsDriver::standardFixForSorting;

    /**
     * Stops the backend for a daemon restart WITHOUT ending the session (ARCHITECTURE.md
     * "Liveness"): the socket is closed without the {@code closeSession} request, so the instance and
     * latch nodes stay in the store, owned by the session recorded in the data directory, and the
     * next start resumes it and adopts them with their {@code created}. If no daemon resumes it, the
     * store expires the session after the session timeout and its instances go offline then.
     *
     * <p>Every call still in flight (register, unregister, leader) completes with
     * {@code StoreUnavailable("... backend closed")}; open subscriptions get no further call, and
     * closing their handles afterwards is harmless. Idempotent; once {@link #drain()} has run, does
     * nothing more.
     */
    @Override
    public CompletionStage<Void> close() {
        return stop(false);
    }

    /**
     * Gives up everything this daemon holds at once: closes the session, so the store deletes every
     * instance and latch node it owns at once (subscribers everywhere see them go offline), forgets
     * the recorded session, then stops as {@link #close()} does (PROTOCOL.md §5.11, §6.4).
     */
    @Override
    public CompletionStage<Void> drain() {
        return stop(true);
    }

    private CompletionStage<Void> stop(boolean endSession) {
        if (closed) {
            return CompletableFuture.completedFuture(null);
        }
        closed = true;
        connected = false;
        adoption.complete(null);
        if (!endSession) {
            session.factory().keepSessionOnClose();
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                stopTimersAndCaches();
                client.close();
                if (endSession) {
                    SavedSession.delete(session.dataDir());
                }
                if (embedded != null) {
                    embedded.close();
                }
            } catch (RuntimeException e) {
                LOG.warn("closing the zookeeper backend", e);
            } finally {
                for (ExecutorService lane : lanes) {
                    lane.shutdown();
                }
                done.complete(null);
            }
        }, "discoverd-zk-close");
        t.setDaemon(true);
        t.start();
        return done;
    }

    /**
     * Stops the client without any close at all, as a killed process would (tests: SIGKILL). The
     * session stays open in the store; timers, caches and latches are abandoned.
     */
    void abandon() {
        closed = true;
        connected = false;
        session.factory().keepSessionOnClose();
        timer.shutdownNow();
        for (ExecutorService lane : lanes) {
            lane.shutdownNow();
        }
        client.close();
    }

    /**
     * First step of a stop: no timer, cache or view is left, and no caller is left waiting. The
     * latch participants are left to the session: a restart keeps them, a drain's session end
     * deletes them.
     */
    private void stopTimersAndCaches() {
        timer.shutdownNow();
        synchronized (expiries) {
            expiries.clear();
        }
        // Their timer tasks are cancelled and their store calls may never answer now.
        failPendingFutures();
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (ServiceState s : allServices()) {
            closing.add(CompletableFuture.runAsync(() -> {
                if (s.view != null) {
                    s.view.close();
                    s.view = null;
                }
            }, s.executor));
        }
        try {
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.debug("closing views", e);
        }
    }
}
