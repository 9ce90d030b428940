package io.discoverd.backend.etcd;

import com.google.common.util.concurrent.MoreExecutors;
import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.GuardedSubscription;
import io.discoverd.backend.Instance;
import io.discoverd.backend.Registration;
import io.discoverd.backend.Registration.Outcome;
import io.discoverd.backend.SharedCall;
import io.discoverd.backend.Subscription;
import io.discoverd.backend.SubscriptionListener;
import io.discoverd.backend.Validation;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.support.Util;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The etcd v3 backend (jetcd), as ARCHITECTURE.md lays it out.
 *
 * <p>Store layout: each instance is the key {@code <prefix>/services/<name>/<addr>}, holding its attrs
 * as JSON ({@code null} for nil), bound to a lease of its own whose TTL is the registration TTL
 * rounded up to whole seconds (etcd's unit). {@code created} is the key's create revision: unique,
 * increasing, the same through every daemon, and unchanged by attribute puts and heartbeats; the
 * leader is the key with the lowest create revision (the rule of etcd's own election recipe).
 *
 * <p>Liveness lives in etcd: a heartbeat (a Register with unchanged attrs) is a lease keep-alive,
 * no data write and no event, whichever daemon receives it; a daemon restart changes nothing in the
 * store, and a heartbeat reaching a restarted or a different daemon refreshes the same lease, keeping
 * {@code created}. To make a heartbeat one round trip (the keep-alive, with a check-only transaction
 * beside it that the key is unchanged), the daemon remembers the lease of each instance registered or
 * refreshed through it ({@link Held}). The keep-alives of all heartbeats go on one long-lived lease
 * stream ({@link LeaseKeepAlives}: one request per heartbeat, nothing refreshed on its own), and the
 * checks of concurrent heartbeats share transactions ({@link ModRevisionChecks}). The record is
 * dropped when the lease is gone or the key
 * changed, when this daemon's watch shows the key deleted or re-created, and when no heartbeat came
 * through this daemon for two TTLs. Unregister revokes the instance's lease, which deletes its key
 * (one delete event) and makes any remembered lease fail its next keep-alive, so nothing resurrects
 * an unregistered instance but a new Register.
 *
 * <p>Subscriptions: one {@link EtcdServiceView} (one prefix watch) per watched service, shared by
 * its subscribers; see there for the exactness rules.
 *
 * <p>etcd unreachable: calls fail fast ({@code waitForReady} off, a short retry, then the request
 * timeout) with {@link DiscoveryException.StoreUnavailable} naming the endpoints; heartbeats too,
 * since they are keep-alives (etcd does not expire leases while it has no leader, and extends them
 * when a leader is elected). Open subscriptions resume when etcd returns.
 *
 * <p>Threading: jetcd completes successful calls and calls watch listeners on the store client's own
 * event loop ({@link EtcdBackendProvider#storeVertx}), never on the daemon's (failures may complete on
 * jetcd's retry executor or the deadline timer's thread); nothing here blocks them. Each watched
 * service has a sequential executor (Guava's, on a small fixed pool); operations on one instance key
 * run one after another, in call order. Timers run on the daemon's Vert.x.
 *
 * <p>Thread-safe.
 */
final class EtcdBackend implements DiscoveryBackend {

    private static final Logger LOG = LoggerFactory.getLogger(EtcdBackend.class);
    /** How often the store's reachability is probed (ms), for {@link #isConnected()}. */
    private static final long PROBE_INTERVAL_MS = 1000;
    /** How long the start waits for the first probe's answer (ms). */
    private static final long FIRST_PROBE_WAIT_MS = 2000;
    /** How long a stop waits for the store client's event loop to end (ms): within the daemon's 5 s per stop step. */
    private static final long STORE_VERTX_CLOSE_WAIT_MS = 3_000;
    /** How many times a Register retries after losing a race with a concurrent write to its key. */
    private static final int MAX_ATTEMPTS = 5;
    /**
     * The most keys of the first range of every service read ({@link #readPages}: a view's load, a new
     * subscriber's barrier, a leader lookup, a resync), so that a service of up to 5,000 instances is
     * one round trip; a larger one goes on in pages ({@link #readPage}). The first range is also held
     * to about {@link #READ_PAGE_BYTES} at {@link #kvBytesEstimate}, and to {@link
     * #UNSIZED_FIRST_PAGE_KEYS} before this backend read any page: at the default {@code
     * maxAttrsBytes} of 64 KiB, 5,000 keys would be one answer of 312 MiB. Measured on the bench's
     * 5,000-instance service (scenario 5, etcd, eighth pass): a view's load read in pages of 500,
     * 1,000, 2,000 and 1,500 keys, one after another, had its last page 24.6–59.5 ms after it began
     * (median 34.4 ms, traced in the daemon), one range of 5,000 in 9.7–20.9 ms (once 83 ms); cold
     * snapshot p50 34.2–44.0 ms in six runs from pages of 500, 24.7–41.0 ms in seven runs from 5,000
     * (the etcd client on a daemon event loop or its own, in both). A warm snapshot's barrier (sixth
     * pass): p50 24.7 and 25.8 ms whole, 29.9 and 35.3 ms from pages of 500. Tests lower it.
     */
    volatile int firstPageKeys = 5_000;
    /** Keys of the first range of a service read before this backend knows the size of its keys and values. */
    static final int UNSIZED_FIRST_PAGE_KEYS = 500;
    /**
     * Bytes of a key and its value, as this backend has seen them: after each page read with any keys
     * ({@link #readPage}), the larger of that page's mean and this estimate less a sixteenth, so it
     * rises at once with a service of large values and comes down over some dozens of pages of small
     * ones (an estimate, not a bound: a service of large values read long after the last one starts
     * with a first range sized for small ones); 0 before any page.
     */
    private final AtomicLong kvBytesEstimate = new AtomicLong();
    /** The most keys of a later range of a service read ({@link #readPage}). */
    static final int MAX_READ_PAGE_KEYS = 8_000;
    /** Bytes of keys and values a later page of a service read aims at ({@link #readPage}): 4 MiB. */
    static final long READ_PAGE_BYTES = 4L << 20;
    /** How many times a whole service read starts again after a compaction between its pages. */
    static final int MAX_READ_RESTARTS = 3;

    /**
     * An instance whose lease this daemon knows, for one-round-trip heartbeats.
     *
     * @param refreshedNanos when a Register for it last came through this daemon ({@link System#nanoTime()})
     */
    record Held(long lease, long created, long modRevision, Map<String, String> attrs, long refreshedNanos) {
    }

    private final Client client;
    private final KV kv;
    private final Lease leases;
    private final Watch watch;
    /** The daemon's Vert.x: timers only. */
    private final Vertx vertx;
    /** The store client's own Vert.x ({@link EtcdBackendProvider#storeVertx}), closed at the backend's close; tests read it. */
    final Vertx storeVertx;
    private final String description;
    private final String servicesPrefix;
    private final Duration ttl;
    private final long leaseSeconds;
    private final Duration requestTimeout;
    private final ExecutorService pool;
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    /** The longest time after start during which unknown keys are read before they are created, in s. */
    static final long RESTART_WINDOW_SECONDS = 15;
    /**
     * Until one TTL (at most {@link #RESTART_WINDOW_SECONDS}) after start ({@link System#nanoTime()}),
     * a Register for a key this daemon does not hold reads the key first: the instances of a
     * restarted daemon's clients are in the store already, and their clients heartbeat every few
     * seconds (5 s for the original client and ours). Afterwards an unknown key is most likely new,
     * and is created at once (a lease grant and one transaction, as a bare etcd client would), the
     * transaction reading the key when it exists; the lease granted for an existing key is revoked.
     */
    private final long createFirstFromNanos;
    private final Map<String, CompletableFuture<Void>> keyChains = new ConcurrentHashMap<>();
    /** Watched services; guarded by itself. */
    private final Map<String, ViewRef> views = new HashMap<>();
    /** How many reads of a whole service were made (tests: a snapshot must not read the service twice). */
    final java.util.concurrent.atomic.AtomicLong serviceReads = new java.util.concurrent.atomic.AtomicLong();
    /**
     * Tests: called with the prefix of a service read after each of its pages that has a next one,
     * before that one is asked for; what it throws ends the read.
     */
    volatile Consumer<String> beforeNextPage;
    /** How many views linger (no subscriber, timer running); guarded by {@link #views}. */
    private int lingering;
    /** How long a view without subscribers stays open (ms; see {@link #release}). */
    private volatile long viewLingerMs = DEFAULT_VIEW_LINGER.toMillis();
    /** How long a view without subscribers stays open by default. */
    static final Duration DEFAULT_VIEW_LINGER = Duration.ofSeconds(30);
    /** At most this many views without subscribers are kept open at a time. */
    static final int MAX_LINGERING = 1000;
    private volatile boolean reachable;
    /** Whether a probe has answered yet (the first outcome is always logged). */
    private volatile boolean probed;
    private volatile boolean closed;
    /** Whether new store calls are made; false from the start of a drain or stop. */
    private volatile boolean accepting = true;
    private CompletableFuture<Void> stopped;
    /**
     * jetcd's connection manager (package-private in jetcd 0.8.6), reached once by reflection for the
     * reconnect workaround ({@link #resetReconnectBackoff}) and for the stub of the keep-alive stream
     * ({@link #leaseStub}); {@code null} when a jetcd whose layout changed hides it (then the workaround
     * does not run, keep-alives open a stream each, and a warning says so).
     */
    private final Object jetcdConnections;
    /**
     * Heartbeats' keep-alives, on one long-lived stream; {@code null} when {@link #jetcdConnections} is
     * unreachable (then jetcd's {@code keepAliveOnce}, a stream per call, does the same work).
     */
    private final LeaseKeepAlives keepAlives;
    /** Heartbeats' "key unchanged" checks, many per transaction. */
    private final ModRevisionChecks checks;
    private long probeTimer = -1;
    private long sweepTimer = -1;

    /** A view and how many subscriptions use it; guarded by {@link #views}. */
    private static final class ViewRef {
        final EtcdServiceView view;
        int refs;
        /** The Vert.x timer that closes the view at the end of its linger, or -1 (see {@link #release}). */
        long lingerTimer = -1;
        /** New subscribers' barrier reads of the service, shared by those arriving together. */
        final SharedCall<EtcdServiceView.Read> barrierReads;

        ViewRef(EtcdServiceView view, SharedCall<EtcdServiceView.Read> barrierReads) {
            this.view = view;
            this.barrierReads = barrierReads;
        }
    }

    /**
     * @param vertx      the daemon's Vert.x, for timers
     * @param storeVertx the Vert.x {@code client} runs on, the backend's own: closed at the backend's close
     */
    EtcdBackend(Client client, Vertx vertx, Vertx storeVertx, EtcdConfig config, Duration registrationTtl) {
        this.client = client;
        this.kv = client.getKVClient();
        this.leases = client.getLeaseClient();
        this.watch = client.getWatchClient();
        this.vertx = vertx;
        this.storeVertx = storeVertx;
        this.description = "etcd " + String.join(",", config.endpoints()) + " " + config.prefix();
        this.servicesPrefix = config.prefix() + "/services/";
        this.ttl = registrationTtl;
        this.leaseSeconds = Math.max(1, (registrationTtl.toMillis() + 999) / 1000);
        this.createFirstFromNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.min(leaseSeconds, RESTART_WINDOW_SECONDS));
        this.requestTimeout = config.requestTimeout();
        // The views' tasks never block: a few threads serve every watched service.
        this.jetcdConnections = connectionManager(client);
        this.keepAlives = jetcdConnections == null ? null
                : new LeaseKeepAlives(this::leaseStub, requestTimeout.toMillis());
        this.checks = new ModRevisionChecks(kv, requestTimeout.toMillis());
        this.pool = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()),
                new ThreadFactoryBuilder().setNameFormat("discoverd-etcd-%d").setDaemon(true).build());
    }

    /**
     * Starts the reachability probe and the sweep of forgotten leases. Waits for the first probe's
     * answer (at most {@value #FIRST_PROBE_WAIT_MS} ms: an etcd that is down answers at once), so
     * that {@code /health} tells the truth from the moment the daemon listens; never waits for etcd
     * to come up.
     */
    void start() {
        if (leaseSeconds * 1000 != ttl.toMillis()) {
            LOG.info("registrationTtl {} ms is rounded up to {} s: etcd leases count whole seconds", ttl.toMillis(), leaseSeconds);
        }
        try {
            probe().get(FIRST_PROBE_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // unreachable or slow: isConnected() says so until a probe succeeds
        }
        probeTimer = vertx.setPeriodic(PROBE_INTERVAL_MS, id -> probe());
        long sweepMs = Math.max(500, ttl.toMillis() / 2);
        sweepTimer = vertx.setPeriodic(sweepMs, id -> sweep());
    }

    // ---------------------------------------------------------------- register

    @Override
    public CompletionStage<Registration> register(String name, String addr, Map<String, String> attrs) {
        Optional<DiscoveryException> invalid = Validation.instanceProblem(name, addr);
        if (invalid.isPresent()) {
            return CompletableFuture.failedFuture(invalid.get());
        }
        Map<String, String> copy = attrs == null ? null : new LinkedHashMap<>(attrs);
        String key = key(name, addr);
        return serialized(key, () -> registerOnce(name, addr, copy, key));
    }

    /**
     * A heartbeat through the remembered lease when the attrs are unchanged; else the full path.
     * The keep-alive goes with a check-only transaction (it writes nothing, so the store revision
     * does not move) that the key is still at the mod revision this daemon last knew: a change made
     * through another daemon (other attrs, an unregister, a key deleted by hand) sends the Register
     * down the full path, so it answers what the store holds. The check is a linearizable read, not
     * this daemon's watch (which may lag behind a change acknowledged through another daemon).
     */
    private CompletableFuture<Registration> registerOnce(String name, String addr, Map<String, String> attrs, String key) {
        Held h = held.get(key);
        if (h == null && createsFirst()) {
            return create(name, addr, attrs, key, 1);
        }
        if (h == null || !Objects.equals(h.attrs(), attrs)) {
            return registerFromStore(name, addr, attrs, key, 1);
        }
        CompletableFuture<Boolean> unchanged = call(() -> checks.unchanged(bytes(key), h.modRevision()));
        return keepAlive(h.lease()).thenCombine(unchanged, (alive, same) -> alive && same).thenCompose(ok -> {
            if (ok) {
                held.replace(key, h, new Held(h.lease(), h.created(), h.modRevision(), h.attrs(), System.nanoTime()));
                return CompletableFuture.completedFuture(
                        new Registration(new Instance(name, addr, attrs, h.created()), Outcome.REFRESHED));
            }
            held.remove(key, h);
            return registerFromStore(name, addr, attrs, key, 1);
        });
    }

    /** Reads the key; refreshes its lease (and puts new attrs on it) or creates it on a new lease. */
    private CompletableFuture<Registration> registerFromStore(String name, String addr, Map<String, String> attrs,
                                                              String key, int attempt) {
        if (attempt > MAX_ATTEMPTS) {
            return tooManyAttempts(key);
        }
        return call(() -> kv.get(bytes(key))).thenCompose(resp ->
                registerOver(name, addr, attrs, key, resp.getKvs().isEmpty() ? null : resp.getKvs().get(0), attempt));
    }

    /**
     * Answers a write once this daemon's view of the service (if it has one) has applied it, so that
     * its subscribers get the change no later than the writer gets its reply; at most
     * {@code requestTimeout} later (a view whose watch is broken catches up on its own).
     */
    private CompletableFuture<Registration> seenHere(String name, long revision, Registration r) {
        ViewRef ref;
        synchronized (views) {
            ref = views.get(name);
        }
        if (ref == null) {
            return CompletableFuture.completedFuture(r);
        }
        return Deadlines.shared().completeWithin(ref.view.whenApplied(revision), null, requestTimeout.toMillis())
                .thenApply(v -> r);
    }

    /** Whether a Register for a key this daemon does not hold now creates it at once (see {@link #createFirstFromNanos}). */
    boolean createsFirst() {
        return System.nanoTime() - createFirstFromNanos >= 0;
    }

    private static CompletableFuture<Registration> tooManyAttempts(String key) {
        return CompletableFuture.failedFuture(new DiscoveryException.StoreUnavailable(
                "etcd: key " + key + " kept changing under " + MAX_ATTEMPTS + " attempts to register it"));
    }

    /** Registers over what the store holds for the key ({@code null}: nothing). */
    private CompletableFuture<Registration> registerOver(String name, String addr, Map<String, String> attrs, String key,
                                                         KeyValue stored, int attempt) {
        if (attempt > MAX_ATTEMPTS) {
            return tooManyAttempts(key);
        }
        if (stored == null) {
            return create(name, addr, attrs, key, attempt);
        }
        if (stored.getLease() == 0) {
            return adoptUnleased(name, addr, attrs, key, stored, attempt);
        }
        return keepAlive(stored.getLease()).thenCompose(alive -> {
            if (!alive) { // the lease ran out between the read and the keep-alive: the key goes too
                return registerFromStore(name, addr, attrs, key, attempt + 1);
            }
            Optional<StoredAttrs.Parsed> current = StoredAttrs.parse(stored.getValue().getBytes());
            if (current.isPresent() && Objects.equals(current.get().attrs(), attrs)) {
                remember(key, stored.getLease(), stored.getCreateRevision(), stored.getModRevision(), attrs);
                return CompletableFuture.completedFuture(
                        new Registration(new Instance(name, addr, attrs, stored.getCreateRevision()), Outcome.REFRESHED));
            }
            return putIfUnchanged(key, attrs, stored, stored.getLease()).thenCompose(modRevision -> {
                if (modRevision < 0) {
                    return registerFromStore(name, addr, attrs, key, attempt + 1);
                }
                remember(key, stored.getLease(), stored.getCreateRevision(), modRevision, attrs);
                return seenHere(name, modRevision,
                        new Registration(new Instance(name, addr, attrs, stored.getCreateRevision()), Outcome.UPDATED));
            });
        });
    }

    /**
     * Grants a lease and creates the key on it if it is still absent; when it exists, the same
     * transaction reads it and the Register goes on over what it holds.
     */
    private CompletableFuture<Registration> create(String name, String addr, Map<String, String> attrs, String key, int attempt) {
        return call(() -> leases.grant(leaseSeconds)).thenCompose(grant -> {
            long lease = grant.getID();
            ByteSequence k = bytes(key);
            return call(() -> kv.txn()
                    .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                    .Then(Op.put(k, ByteSequence.from(StoredAttrs.encode(attrs)), PutOption.builder().withLeaseId(lease).build()))
                    .Else(Op.get(k, GetOption.DEFAULT))
                    .commit())
                    .thenCompose(txn -> {
                        if (!txn.isSucceeded()) { // it exists (made through another daemon): refresh that one
                            revokeQuietly(lease);
                            List<KeyValue> kvs = txn.getGetResponses().isEmpty() ? List.of() : txn.getGetResponses().get(0).getKvs();
                            return registerOver(name, addr, attrs, key, kvs.isEmpty() ? null : kvs.get(0), attempt + 1);
                        }
                        // The key is new, so its create and mod revisions are both the put's revision.
                        long revision = writtenRevision(txn);
                        remember(key, lease, revision, revision, attrs);
                        return seenHere(name, revision,
                                new Registration(new Instance(name, addr, attrs, revision), Outcome.CREATED));
                    });
            // A transaction that failed without an answer (a timeout) may have committed: its lease is
            // left to run out rather than revoked, so a retried Register finds and keeps that key.
        });
    }

    /** A key without a lease (not written by a daemon): bound to a new lease, keeping its create revision. */
    private CompletableFuture<Registration> adoptUnleased(String name, String addr, Map<String, String> attrs, String key,
                                                         KeyValue stored, int attempt) {
        return call(() -> leases.grant(leaseSeconds)).thenCompose(grant -> putIfUnchanged(key, attrs, stored, grant.getID())
                .thenCompose(modRevision -> {
                    if (modRevision < 0) {
                        revokeQuietly(grant.getID());
                        return registerFromStore(name, addr, attrs, key, attempt + 1);
                    }
                    remember(key, grant.getID(), stored.getCreateRevision(), modRevision, attrs);
                    boolean same = StoredAttrs.parse(stored.getValue().getBytes())
                            .map(p -> Objects.equals(p.attrs(), attrs)).orElse(false);
                    return CompletableFuture.completedFuture(new Registration(
                            new Instance(name, addr, attrs, stored.getCreateRevision()), same ? Outcome.REFRESHED : Outcome.UPDATED));
                }));
    }

    /** Puts attrs on {@code lease} if the key is still at {@code stored}'s mod revision; returns the new mod revision, or -1. */
    private CompletableFuture<Long> putIfUnchanged(String key, Map<String, String> attrs, KeyValue stored, long lease) {
        ByteSequence k = bytes(key);
        return call(() -> kv.txn()
                .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(stored.getModRevision())))
                .Then(Op.put(k, ByteSequence.from(StoredAttrs.encode(attrs)), PutOption.builder().withLeaseId(lease).build()))
                .commit())
                .thenApply(txn -> txn.isSucceeded() ? writtenRevision(txn) : -1L);
    }

    /**
     * The revision of the one put a succeeded transaction made: etcd answers a transaction that wrote
     * with the store revision after it (its {@code applyTxn}), which is that put's mod revision; no
     * read of the key inside the transaction is needed for it.
     */
    private static long writtenRevision(TxnResponse txn) {
        return txn.getHeader().getRevision();
    }

    private void remember(String key, long lease, long created, long modRevision, Map<String, String> attrs) {
        held.put(key, new Held(lease, created, modRevision, attrs, System.nanoTime()));
    }

    /** Keeps a lease alive once: {@code true}, or {@code false} when etcd no longer has it. */
    private CompletableFuture<Boolean> keepAlive(long lease) {
        return call(() -> keepAliveOnce(lease))
                .thenApply(ttl -> ttl > 0)
                .exceptionallyCompose(e -> isLeaseNotFound(e)
                        ? CompletableFuture.completedFuture(false) : CompletableFuture.failedFuture(e));
    }

    /** One keep-alive of a lease, on the long-lived stream when there is one: the lease's new TTL (s), 0 when gone. */
    private CompletableFuture<Long> keepAliveOnce(long lease) {
        return keepAlives != null ? keepAlives.keepAlive(lease) : leases.keepAliveOnce(lease).thenApply(r -> r.getTTL());
    }

    /** Revokes a lease this daemon granted but did not use; a failure only leaves it to expire. */
    private void revokeQuietly(long lease) {
        if (!closed) {
            leases.revoke(lease).whenComplete((r, e) -> {
                if (e != null) {
                    LOG.debug("unused lease {} left to expire: {}", lease, e.toString());
                }
            });
        }
    }

    // ---------------------------------------------------------------- unregister

    @Override
    public CompletionStage<Void> unregister(String name, String addr) {
        Optional<DiscoveryException> invalid = Validation.instanceProblem(name, addr);
        if (invalid.isPresent()) {
            return CompletableFuture.failedFuture(invalid.get());
        }
        String key = key(name, addr);
        return serialized(key, () -> call(() -> kv.get(bytes(key))).thenCompose(resp -> {
            held.remove(key);
            if (resp.getKvs().isEmpty()) {
                return CompletableFuture.<Void>failedFuture(new DiscoveryException.InstanceNotFound(key));
            }
            KeyValue stored = resp.getKvs().get(0);
            if (stored.getLease() == 0) {
                return call(() -> kv.delete(bytes(key), DeleteOption.DEFAULT)).thenCompose(d -> d.getDeleted() > 0
                        ? CompletableFuture.<Void>completedFuture(null)
                        : CompletableFuture.<Void>failedFuture(new DiscoveryException.InstanceNotFound(key)));
            }
            // Revoking deletes the key (one delete event) and ends the lease, so no remembered lease
            // keeps a heartbeat "refreshing" an instance that is gone.
            return call(() -> leases.revoke(stored.getLease())).<Void>thenApply(r -> null)
                    .exceptionallyCompose(e -> isLeaseNotFound(e)
                            ? CompletableFuture.failedFuture(new DiscoveryException.InstanceNotFound(key))
                            : CompletableFuture.failedFuture(e));
        }));
    }

    // ---------------------------------------------------------------- subscribe and leader

    @Override
    public Subscription subscribe(String name, SubscriptionListener listener) {
        Objects.requireNonNull(listener, "listener");
        if (!Validation.isValidSegment(name) || closed) {
            GuardedSubscription s = new GuardedSubscription(name, listener, x -> { });
            s.current();
            if (closed) {
                s.fail(new DiscoveryException.StoreUnavailable("the daemon is stopping"));
            }
            return s;
        }
        ViewRef ref;
        boolean fresh;
        synchronized (views) {
            ref = views.get(name);
            fresh = ref == null;
            if (fresh) {
                String prefix = servicesPrefix + name + "/";
                ref = new ViewRef(new EtcdServiceView(this, name, prefix, MoreExecutors.newSequentialExecutor(pool)),
                        new SharedCall<>(() -> readService(prefix), Runnable::run));
                views.put(name, ref);
            } else if (ref.lingerTimer >= 0) {
                vertx.cancelTimer(ref.lingerTimer);
                ref.lingerTimer = -1;
                lingering--;
            }
            ref.refs++;
        }
        EtcdServiceView view = ref.view;
        ViewRef r = ref;
        GuardedSubscription sub = new GuardedSubscription(name, listener, s -> release(r, s));
        if (fresh) {
            // The view's first read is this subscriber's barrier (EtcdServiceView.start).
            view.start(sub);
            return sub;
        }
        view.execute(() -> view.add(sub));
        ref.barrierReads.join().whenComplete((read, err) -> view.execute(() -> {
            if (err != null) {
                view.barrierFailed(sub, storeError(err));
            } else {
                view.barrierDone(sub, read);
            }
        }));
        return sub;
    }

    /**
     * Drops a subscription. A view left without subscribers stays open for {@link #viewLingerMs}
     * (at most {@link #MAX_LINGERING} views at a time), so that a resubscription (a client
     * reconnecting) finds the service in memory and its watch running instead of reading it again;
     * the timer, a new subscriber or the backend's close ends the linger.
     */
    private void release(ViewRef ref, GuardedSubscription sub) {
        EtcdServiceView view = ref.view;
        view.execute(() -> view.remove(sub));
        synchronized (views) {
            if (--ref.refs == 0 && views.get(view.name()) == ref) {
                long linger = viewLingerMs;
                if (!closed && linger > 0 && lingering < MAX_LINGERING) {
                    lingering++;
                    ref.lingerTimer = vertx.setTimer(linger, id -> endLinger(ref, id));
                } else {
                    views.remove(view.name());
                    view.execute(view::close);
                }
            }
        }
    }

    /** The linger timer {@code timerId} of {@code ref} fired: the view closes unless a subscriber came back. */
    private void endLinger(ViewRef ref, long timerId) {
        synchronized (views) {
            if (ref.lingerTimer != timerId) {
                return;
            }
            ref.lingerTimer = -1;
            lingering--;
            if (ref.refs == 0 && views.get(ref.view.name()) == ref) {
                views.remove(ref.view.name());
                ref.view.execute(ref.view::close);
            }
        }
    }

    /** Sets how long a view without subscribers stays open ({@link #release}); zero closes it at once (tests). */
    void setViewLinger(Duration linger) {
        viewLingerMs = linger.toMillis();
    }

    /** The services whose view is open now, lingering ones included (tests). */
    Set<String> openViews() {
        synchronized (views) {
            return Set.copyOf(views.keySet());
        }
    }

    @Override
    public CompletionStage<Optional<Instance>> leader(String name) {
        if (!Validation.isValidSegment(name)) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        String prefix = servicesPrefix + name + "/";
        return readService(prefix).thenApply(read -> EtcdServiceView.instances(prefix, read.kvs()).entrySet().stream()
                .min(Comparator.comparingLong(e -> e.getValue().created()))
                .map(e -> new Instance(name, e.getKey(), e.getValue().attrs(), e.getValue().created())));
    }

    // ---------------------------------------------------------------- for the views

    /**
     * A linearizable read of every key under {@code prefix}, whole: its pages ({@link #readPages})
     * collected. A read whose revision was compacted between two of its pages is made again from the
     * first page, at most {@value #MAX_READ_RESTARTS} times (an operator compacting up to the current
     * revision, or a revision retention shorter than the read).
     *
     * @return the revision and every kvs; fails as {@link #readPages} does
     */
    CompletableFuture<EtcdServiceView.Read> readService(String prefix) {
        return readWhole(prefix, 0);
    }

    private CompletableFuture<EtcdServiceView.Read> readWhole(String prefix, int restarts) {
        List<KeyValue> all = new ArrayList<>();
        return readPages(prefix, all::addAll).thenApply(revision -> new EtcdServiceView.Read(revision, all))
                .exceptionallyCompose(e -> restarts < MAX_READ_RESTARTS && isCompacted(e)
                        ? readWhole(prefix, restarts + 1) : CompletableFuture.failedFuture(e));
    }

    /**
     * A linearizable read of every key under {@code prefix}, made as ranges in key order, as etcd's
     * own clients list a large prefix (etcdctl's {@code --limit}, Kubernetes' paginated lists): the
     * first at the store's current revision, each next one, from the key after the last one read, at
     * that same revision ({@link #firstPageKeys} and {@link #readPage} give the sizes). The pages
     * together are one consistent read at that revision, and the store answers a page while the
     * caller takes the one before, so a large service is not one answer that has to arrive whole, nor
     * held whole here: a page is not kept after {@code onPage} returns.
     *
     * @param onPage gets each page's kvs in key order, one page at a time, before the next page is
     *               asked for, on the thread that completed that page's call (the store client's event
     *               loop): it must not block; a page it throws on ends the read
     * @return the read's revision, after the last page was handed over; fails with the first page
     *         that fails, after the pages handed over before it: with
     *         {@link DiscoveryException.StoreUnavailable} (caused by etcd's own error, a compaction of
     *         the read's revision between two pages among them), or with what {@code onPage} threw
     */
    CompletableFuture<Long> readPages(String prefix, Consumer<List<KeyValue>> onPage) {
        serviceReads.incrementAndGet();
        ByteSequence from = bytes(prefix);
        CompletableFuture<Long> done = new CompletableFuture<>();
        long estimate = kvBytesEstimate.get();
        int first = (int) Math.max(1, Math.min(firstPageKeys,
                estimate == 0 ? UNSIZED_FIRST_PAGE_KEYS : keysWithinPageBytes(estimate)));
        readPage(prefix, from, OptionsUtil.prefixEndOf(from), 0, first, false, onPage, done);
        return done;
    }

    /**
     * One page of {@link #readPages}: the first ({@code revision} 0) is a linearizable read of {@code
     * limit} keys; each next one reads twice as many as the one before, or {@link #firstPageKeys} when
     * that is more, at most {@link #MAX_READ_PAGE_KEYS} and about {@link #READ_PAGE_BYTES} at the mean
     * size of the keys and values of the page before, at the first one's revision, serializable: it
     * needs no leader round trip, since the member that answered the first page has that revision.
     * Another member that lags behind it answers "future revision" instead; that page is asked again,
     * linearizable.
     */
    private void readPage(String prefix, ByteSequence from, ByteSequence end, long revision, int limit, boolean serializable,
                          Consumer<List<KeyValue>> onPage, CompletableFuture<Long> done) {
        GetOption.Builder option = GetOption.builder().withRange(end).withLimit(limit);
        if (revision > 0) {
            option.withRevision(revision).withSerializable(serializable);
        }
        call(() -> kv.get(from, option.build())).whenComplete((GetResponse r, Throwable err) -> {
            try {
                if (err != null) {
                    if (serializable && isFutureRevision(err)) {
                        readPage(prefix, from, end, revision, limit, false, onPage, done);
                    } else {
                        done.completeExceptionally(err);
                    }
                    return;
                }
                long at = revision > 0 ? revision : r.getHeader().getRevision();
                List<KeyValue> kvs = r.getKvs();
                long bytes = 0;
                for (KeyValue kv : kvs) {
                    bytes += kv.getKey().size() + kv.getValue().size();
                }
                long mean = kvs.isEmpty() ? 0 : Math.max(1, bytes / kvs.size());
                if (mean > 0) {
                    kvBytesEstimate.accumulateAndGet(mean, (estimate, page) -> Math.max(page, estimate - estimate / 16));
                }
                onPage.accept(kvs);
                if (r.isMore() && !kvs.isEmpty()) {
                    Consumer<String> hook = beforeNextPage;
                    if (hook != null) {
                        hook.accept(prefix);
                    }
                    // Doubling, or at once up to firstPageKeys when this page's values are small (the
                    // estimate may have held the first range down after another service's large ones).
                    long grow = Math.max(2L * limit, firstPageKeys);
                    int next = (int) Math.min(Math.min(grow, MAX_READ_PAGE_KEYS), keysWithinPageBytes(mean));
                    ByteSequence after = kvs.get(kvs.size() - 1).getKey().concat(ByteSequence.from(new byte[] {0}));
                    readPage(prefix, after, end, at, next, true, onPage, done);
                } else {
                    done.complete(at);
                }
            } catch (Throwable e) { // an Error too: the read must end, or a view waits for it forever
                done.completeExceptionally(e);
            }
        });
    }

    /** How many keys of {@code meanBytes} each (key and value) make about {@link #READ_PAGE_BYTES}; at least 1. */
    private static long keysWithinPageBytes(long meanBytes) {
        return Math.max(1, READ_PAGE_BYTES / Math.max(1, meanBytes));
    }

    /** The store's own error under a failure of {@link #call} (mapped by {@link #storeError} or not). */
    private static Throwable storeCause(Throwable failure) {
        Throwable root = DiscoveryException.rootCause(failure);
        return root instanceof DiscoveryException de && de.getCause() != null ? de.getCause() : root;
    }

    /** Whether a read failed because its revision was compacted (etcd's {@code ErrCompacted}). */
    private static boolean isCompacted(Throwable failure) {
        Throwable root = storeCause(failure);
        return root instanceof CompactedException || outOfRange(root, "required revision has been compacted");
    }

    /**
     * Whether a read at a revision failed because the member that answered has not reached it yet
     * (etcd's {@code ErrFutureRev}).
     */
    private static boolean isFutureRevision(Throwable failure) {
        return outOfRange(storeCause(failure), "required revision is a future revision");
    }

    /**
     * Whether {@code root} is etcd's {@code OUT_OF_RANGE} answer with {@code message}: jetcd hands a
     * KV call's error over as gRPC's own exception, a watch's as an {@link EtcdException}.
     */
    private static boolean outOfRange(Throwable root, String message) {
        boolean code = root instanceof EtcdException ee ? ee.getErrorCode() == ErrorCode.OUT_OF_RANGE
                : root instanceof StatusRuntimeException sre && sre.getStatus().getCode() == Status.Code.OUT_OF_RANGE;
        return code && String.valueOf(root.getMessage()).contains(message);
    }

    /** Starts a prefix watch from {@code fromRevision}; jetcd calls {@code listener} on the store client's event loop. */
    Watch.Watcher watch(String prefix, long fromRevision, Watch.Listener listener) {
        ByteSequence p = bytes(prefix);
        return watch.watch(p, WatchOption.builder().isPrefix(true).withRevision(fromRevision)
                .withCreateNotify(true).withRequireLeader(true).build(), listener);
    }

    /** Runs {@code task} after {@code delayMs} (on a Vert.x timer thread: it must hop). */
    void schedule(long delayMs, Runnable task) {
        if (!closed) {
            vertx.setTimer(Math.max(1, delayMs), id -> task.run());
        }
    }

    /**
     * A view saw a put of an instance key (on its watch, or in a read after its watch lost its
     * history): a remembered lease of an older incarnation is dropped, attrs follow. Most puts a view
     * sees (its own writes coming back) change nothing held here: they are answered by a lock-free
     * read, and only a newer put takes the map's bin lock. Thread-safe: the views of different
     * services call it at the same time.
     */
    void observedPut(String name, String addr, EtcdServiceView.Entry e) {
        String key = key(name, addr);
        Held seen = held.get(key);
        if (seen == null || e.modRevision() <= seen.modRevision()) {
            return;
        }
        held.computeIfPresent(key, (k, h) -> {
            if (e.modRevision() <= h.modRevision()) {
                return h;
            }
            return e.created() == h.created() && e.lease() == h.lease()
                    ? new Held(h.lease(), h.created(), e.modRevision(), e.attrs(), h.refreshedNanos()) : null;
        });
    }

    /** A view saw an instance key deleted: its remembered lease is dropped. */
    void observedDelete(String name, String addr, EtcdServiceView.Entry old) {
        held.computeIfPresent(key(name, addr), (k, h) -> h.created() == old.created() ? null : h);
    }

    // ---------------------------------------------------------------- lifecycle

    @Override
    public boolean isConnected() {
        return reachable && !closed;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public synchronized CompletionStage<Void> close() {
        if (stopped == null) {
            accepting = false;
            stopped = refreshHeld().thenCompose(v -> stop());
        }
        return stopped;
    }

    /**
     * Refreshes, once, the lease of every instance whose heartbeats came through this daemon within
     * the last TTL, so that each has a full TTL from the stop for its next heartbeat to reach the
     * restarted daemon or another one (as the ZooKeeper backend gives each a full TTL from its
     * restart). Bounded: at most 2 s; never fails.
     */
    private CompletableFuture<Void> refreshHeld() {
        long recent = System.nanoTime() - ttl.toNanos();
        CompletableFuture<?>[] refreshes = held.values().stream()
                .filter(h -> h.refreshedNanos() - recent > 0)
                .map(h -> keepAliveOnce(h.lease()).handle((r, e) -> null))
                .toArray(CompletableFuture[]::new);
        return Deadlines.shared().completeWithin(CompletableFuture.allOf(refreshes), null, Math.min(2000, requestTimeout.toMillis()))
                .handle((v, e) -> null);
    }

    /**
     * Revokes the lease of every instance registered or refreshed through this daemon in the last two
     * TTLs (they go offline at once, for every subscriber through any daemon), then stops as
     * {@link #close()} does. Instances whose heartbeats now reach another daemon are created again
     * there, with a new {@code created}.
     */
    @Override
    public synchronized CompletionStage<Void> drain() {
        if (stopped != null) {
            return stopped;
        }
        // First refuse new store calls, then let the operations under way settle (each fails at its
        // next store call, or completes), so a Register racing the drain cannot leave behind an
        // instance created after the leases were collected.
        accepting = false;
        CompletableFuture<?>[] inFlight = keyChains.values().toArray(CompletableFuture[]::new);
        stopped = Deadlines.shared().completeWithin(CompletableFuture.allOf(inFlight), null, requestTimeout.toMillis())
                .handle((v, x) -> null)
                .thenCompose(v -> revokeHeld())
                .thenCompose(v -> stop());
        return stopped;
    }

    /** Revokes the lease of every remembered instance; never fails. */
    private CompletableFuture<Void> revokeHeld() {
        List<CompletableFuture<?>> revokes = new ArrayList<>();
        for (Map.Entry<String, Held> e : held.entrySet()) {
            revokes.add(timed(leases.revoke(e.getValue().lease())).handle((r, x) -> {
                if (x != null && !isLeaseNotFound(x)) {
                    LOG.warn("drain: could not revoke the lease of {}: {}", e.getKey(), storeError(x).getMessage());
                }
                return null;
            }));
        }
        LOG.info("drain: revoking the leases of {} instances", revokes.size());
        return CompletableFuture.allOf(revokes.toArray(CompletableFuture[]::new));
    }

    private CompletableFuture<Void> stop() {
        accepting = false;
        closed = true;
        if (probeTimer >= 0) {
            vertx.cancelTimer(probeTimer);
        }
        if (sweepTimer >= 0) {
            vertx.cancelTimer(sweepTimer);
        }
        List<EtcdServiceView> open;
        synchronized (views) {
            for (ViewRef r : views.values()) {
                if (r.lingerTimer >= 0) {
                    vertx.cancelTimer(r.lingerTimer);
                }
            }
            open = views.values().stream().map(r -> r.view).toList();
            views.clear();
        }
        for (EtcdServiceView v : open) {
            v.execute(v::close);
        }
        if (keepAlives != null) {
            keepAlives.close();
        }
        return CompletableFuture.runAsync(() -> {
            try {
                client.close();
            } finally {
                pool.shutdown();
            }
        }, pool).exceptionally(e -> {
            LOG.debug("closing the etcd client", e);
            return null;
        }).thenCompose(v -> storeVertxEnded());
    }

    /**
     * Closes the store client's Vert.x (jetcd's close has closed it already, when it got that far,
     * without waiting: a second close then returns at once) and completes when its event loop has
     * ended, or after {@value #STORE_VERTX_CLOSE_WAIT_MS} ms, on a common-pool thread or the deadline
     * timer's; never fails.
     */
    private CompletableFuture<Void> storeVertxEnded() {
        CompletableFuture<Void> ended = new CompletableFuture<>();
        try {
            storeVertx.close();
            // Off Netty's GlobalEventExecutor thread, which completes the termination: what is chained on
            // this backend's close must not run (or block) there.
            ((VertxInternal) storeVertx).nettyEventLoopGroup().terminationFuture()
                    .addListener(f -> ForkJoinPool.commonPool().execute(() -> ended.complete(null)));
        } catch (RuntimeException e) {
            LOG.debug("closing the etcd client's Vert.x", e);
            ended.complete(null);
        }
        return Deadlines.shared().completeWithin(ended, null, STORE_VERTX_CLOSE_WAIT_MS);
    }

    private static Object connectionManager(Client client) {
        try {
            Field cm = client.getClass().getDeclaredField("connectionManager");
            cm.setAccessible(true);
            return cm.get(client);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("cannot reach jetcd's connection manager ({}): reconnecting after a long etcd outage may take up to"
                    + " 2 minutes, and each heartbeat's keep-alive opens a stream of its own", e.toString());
            return null;
        }
    }

    /**
     * Asks etcd for a count (a linearizable read: it needs a leader); completes with the answer, never
     * fails. While etcd does not answer, each probe also resets gRPC's reconnect backoff (which grows
     * to 2 minutes by default), so the daemon is back within a probe interval of etcd's return.
     */
    private CompletableFuture<Void> probe() {
        if (closed) {
            return CompletableFuture.completedFuture(null);
        }
        return Deadlines.shared().within(kv.get(bytes(servicesPrefix), GetOption.builder().withCountOnly(true).build()),
                        Math.min(requestTimeout.toMillis(), 2 * PROBE_INTERVAL_MS))
                .handle((r, e) -> {
                    reachable(e == null, e);
                    if (e != null && jetcdConnections != null) {
                        resetReconnectBackoff();
                    }
                    return null;
                });
    }

    /** Resets the reconnect backoff of jetcd's gRPC channel, which jetcd keeps to itself. */
    private void resetReconnectBackoff() {
        try {
            Method getChannel = jetcdConnections.getClass().getDeclaredMethod("getChannel");
            getChannel.setAccessible(true);
            ((io.grpc.ManagedChannel) getChannel.invoke(jetcdConnections)).resetConnectBackoff();
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("cannot reset the reconnect backoff of jetcd's channel: {}", e.toString());
        }
    }

    /**
     * A lease stub on jetcd's channel, made by jetcd's connection manager (so it carries the client's
     * credentials and options, as jetcd's own lease client does), requiring a leader as jetcd's
     * keep-alives do: etcd then ends the stream when its member loses the leader, instead of keeping
     * it open with nobody able to extend a lease.
     *
     * @throws IllegalStateException when the manager's layout changed (a new jetcd)
     */
    private LeaseGrpc.LeaseStub leaseStub() {
        try {
            Method newStub = jetcdConnections.getClass().getDeclaredMethod("newStub", Function.class);
            newStub.setAccessible(true);
            Function<io.grpc.ManagedChannel, LeaseGrpc.LeaseStub> make = LeaseGrpc::newStub;
            return Util.applyRequireLeader(true, (LeaseGrpc.LeaseStub) newStub.invoke(jetcdConnections, make));
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot open a lease keep-alive stream on jetcd's channel: " + e, e);
        }
    }

    /** Records whether etcd answers; logs each change (and the first probe's outcome) once. */
    private void reachable(boolean ok, Throwable cause) {
        boolean was = reachable;
        reachable = ok;
        boolean first = !probed;
        probed = true;
        if ((ok != was || first) && !closed) {
            if (ok) {
                LOG.info("etcd is reachable: {}", description);
            } else {
                LOG.warn("etcd is unreachable: {}: {}", description, DiscoveryException.rootCause(cause).toString());
            }
        }
    }

    /** Forgets leases not refreshed through this daemon for two TTLs: they expired, or live on elsewhere. */
    private void sweep() {
        long limit = System.nanoTime() - 2 * ttl.toNanos();
        held.values().removeIf(h -> h.refreshedNanos() - limit < 0);
    }

    // ---------------------------------------------------------------- helpers

    /** What this daemon remembers of an instance it registered, or {@code null} (tests). */
    Held held(String name, String addr) {
        return held.get(key(name, addr));
    }

    /** The store key of an instance. */
    String key(String name, String addr) {
        return servicesPrefix + name + "/" + addr;
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    /**
     * Runs operations on one key one after another, in call order. The chain's tail is swapped in
     * atomically; the operation itself starts outside any map lock (it may complete at once, and its
     * caller may then call in again for the same key).
     */
    private <T> CompletableFuture<T> serialized(String key, Supplier<CompletableFuture<T>> op) {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> prev = keyChains.put(key, mine);
        CompletableFuture<Void> start = prev == null ? CompletableFuture.completedFuture(null) : prev;
        return start.thenCompose(v -> {
            try {
                return op.get();
            } catch (RuntimeException e) {
                return CompletableFuture.<T>failedFuture(e);
            }
        }).handle((v, e) -> {
            keyChains.remove(key, mine);
            mine.complete(null);
            if (e != null) {
                throw storeError(e);
            }
            return v;
        });
    }

    /**
     * A store call with the request timeout; its failure becomes a {@link DiscoveryException}.
     * Refused without reaching etcd once the backend stops or drains.
     */
    private <T> CompletableFuture<T> call(Supplier<CompletableFuture<T>> request) {
        if (!accepting) {
            return CompletableFuture.failedFuture(new DiscoveryException.StoreUnavailable("the daemon is stopping"));
        }
        CompletableFuture<T> f;
        try {
            f = request.get();
        } catch (RuntimeException e) { // a client that throws instead of failing its future (e.g. closed)
            f = CompletableFuture.failedFuture(e);
        }
        return timed(f);
    }

    /** The request timeout and the error mapping of {@link #call}, for the drain's own revokes. */
    private <T> CompletableFuture<T> timed(CompletableFuture<T> f) {
        return Deadlines.shared().within(f, requestTimeout.toMillis())
                .handle((v, e) -> {
                    if (e == null) {
                        if (!reachable) {
                            reachable(true, null);
                        }
                        return CompletableFuture.completedFuture(v);
                    }
                    return CompletableFuture.<T>failedFuture(storeError(e));
                })
                .thenCompose(x -> x);
    }

    /** Maps a failure to what goes on the wire: domain errors as they are, the rest "store unavailable". */
    DiscoveryException storeError(Throwable failure) {
        Throwable root = DiscoveryException.rootCause(failure);
        if (root instanceof DiscoveryException de) {
            return de;
        }
        if (root instanceof TimeoutException) { // slow, not gone: reachability is the probe's to judge
            return new DiscoveryException.StoreUnavailable(description + " did not answer within " + requestTimeout.toMillis() + " ms", root);
        }
        if (root instanceof EtcdException ee && (ee.getErrorCode() == ErrorCode.UNAVAILABLE
                || ee.getErrorCode() == ErrorCode.DEADLINE_EXCEEDED)) {
            reachable(false, root);
        }
        String detail = root.getMessage() == null ? root.toString() : root.getMessage();
        return new DiscoveryException.StoreUnavailable(description + ": " + detail, root);
    }

    private static boolean isLeaseNotFound(Throwable failure) {
        Throwable root = storeCause(failure);
        return (root instanceof EtcdException ee && ee.getErrorCode() == ErrorCode.NOT_FOUND)
                || root instanceof io.etcd.jetcd.lease.NoSuchLeaseException
                || (root.getMessage() != null && root.getMessage().contains("requested lease not found"));
    }
}
