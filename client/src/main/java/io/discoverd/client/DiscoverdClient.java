package io.discoverd.client;

import io.discoverd.protocol.Args;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A connection to one discoverd daemon: registers instances and keeps them alive, and opens live
 * {@link ServiceSet}s. Works with this project's daemon and with the original Go daemon: it uses only
 * {@code Agent.Register}, {@code Agent.Unregister} and {@code Agent.Subscribe} over gob
 * (PROTOCOL.md).
 *
 * <pre>{@code
 * try (DiscoverdClient client = DiscoverdClient.connect()) {        // DISCOVERD or 127.0.0.1:1111
 *     String self = client.register("api", ":8080", Map.of("role", "primary"));
 *     try (ServiceSet db = client.serviceSet("db")) {
 *         db.leader().ifPresent(leader -> use(leader.addr()));
 *     }
 *     client.unregisterAll();
 * }
 * }</pre>
 *
 * <p><b>Registrations.</b> {@link #register} announces an instance and then repeats the same
 * Register as a heartbeat every {@link Builder#heartbeatInterval heartbeat interval} (default 5 s,
 * minus up to 10 % jitter; the daemon's TTL is 10 s, PROTOCOL.md §5.6) until {@link #unregister},
 * {@link #unregisterAll()} or {@link #close()}. Heartbeats run on the client's scheduler thread and
 * never block a caller.
 *
 * <p><b>Connection loss.</b> When the daemon goes away the client reports
 * {@link ConnectionState#DISCONNECTED} and reconnects in the background, with exponential backoff
 * and jitter ({@link Builder#reconnectBackoff}). Meanwhile every call fails at once with
 * {@link DiscoverdException.Kind#DISCONNECTED}, heartbeats pause, and sets keep their last content.
 * Once connected again it sends every registration's heartbeat at once (re-creating instances the
 * daemon let expire), then resubscribes every open set and reconciles it
 * ({@link ServiceSet}), and reports {@link ConnectionState#CONNECTED} once the heartbeats are
 * answered and the sets reconciled. A daemon that vanishes without closing TCP (power loss,
 * partition, a stopped process) is noticed when a heartbeat or call gets no answer within the
 * {@link Builder#callTimeout call timeout}: the connection is then dropped and re-established the
 * same way. Requests are written by a per-connection thread, so no call, {@link #unregister} or
 * {@link #close()} ever blocks on a daemon that stopped reading.
 *
 * <p><b>Closing.</b> {@link #close()} stops heartbeats, closes every set and the connection. It does
 * <em>not</em> unregister: the daemon keeps the instances until their TTL runs out (10 s), exactly as
 * with the original client. Call {@link #unregisterAll()} first to take them offline at once.
 *
 * <p><b>Command-line uses</b>, one or two calls each: hold a registration ({@link #register}, then
 * {@link #unregister} on interrupt), {@link #unregister}, list ({@link #services(String)}), follow
 * ({@link #serviceSet(String)} then {@link ServiceSet#watch}), leader ({@link #serviceSet(String)}
 * then {@link ServiceSet#leader()} or {@link ServiceSet#watchLeader}). Dialling by service name:
 * {@link ServiceResolver}.
 *
 * <p><b>Threads.</b> Thread-safe; blocking methods say so and are bounded by the
 * {@link Builder#callTimeout call timeout}. Internally: one read and one write thread per connection, one
 * scheduler (heartbeats, reconnects), and a pool of daemon listener threads on which all listeners
 * run (see {@link Builder#listenerQueueCapacity}). No listener ever runs on the read thread.
 */
public final class DiscoverdClient implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(DiscoverdClient.class.getName());

    /** A registration and its heartbeat. */
    private final class Registration {
        final String name;
        final String addr;
        volatile Args args;
        volatile String expanded;
        volatile boolean cancelled;
        private ScheduledFuture<?> next;

        Registration(Args args, String expanded) {
            this.name = args.name();
            this.addr = args.addr();
            this.args = args;
            this.expanded = expanded;
        }

        synchronized void schedule() {
            if (!cancelled) {
                try {
                    next = scheduler.schedule(this::beat, Backoff.heartbeatDelayMillis(heartbeatMillis), TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    cancelled = true; // the client is closing
                }
            }
        }

        /** Switches the heartbeat to {@code newArgs}; returns the previous ones, for {@link #revert}. */
        synchronized Args update(Args newArgs) {
            Args old = args;
            args = newArgs;
            return old;
        }

        /** Back to {@code old} after a refused re-register, unless another register changed them since. */
        synchronized void revert(Args tried, Args old) {
            if (args == tried) {
                args = old;
            }
        }

        synchronized void cancel() {
            cancelled = true;
            if (next != null) {
                next.cancel(false);
            }
        }

        private void beat() {
            Connection c = conn;
            if (c != null) {
                heartbeatNow(c);
            }
            schedule();
        }

        /**
         * Sends one heartbeat unless cancelled, and returns its answer (already completed when
         * cancelled). Holding the monitor while the request is queued means that {@link #cancel()}
         * returns only after any heartbeat in progress is queued on the connection, so an Unregister
         * queued after it can never be overtaken by a late heartbeat that re-creates the instance.
         * Queuing never blocks ({@link Connection}), so neither does {@link #cancel()}. A heartbeat
         * without an answer within the call timeout means the daemon is gone without closing TCP
         * (power loss, partition, a stopped process): the connection is aborted and re-established.
         */
        synchronized CompletableFuture<Object> heartbeatNow(Connection c) {
            if (cancelled) {
                return CompletableFuture.completedFuture(null);
            }
            return c.call("Agent.Register", args).orTimeout(callTimeoutMillis, TimeUnit.MILLISECONDS).whenComplete((r, e) -> {
                if (e instanceof TimeoutException) {
                    c.abort("no answer to a heartbeat of " + name + " " + addr + " within " + callTimeoutMillis + " ms");
                } else if (e != null) {
                    LOG.log(System.Logger.Level.WARNING, "discoverd client: heartbeat of " + name + " " + addr
                            + " failed: " + e.getMessage());
                } else if (r instanceof String s) {
                    expanded = s;
                }
            });
        }
    }

    private final DaemonAddress address;
    private final long heartbeatMillis;
    private final long callTimeoutMillis;
    private final int connectTimeoutMillis;
    private final long backoffInitialMillis;
    private final long backoffMaxMillis;
    private final int listenerQueueCapacity;

    private final Object lock = new Object();
    private volatile Connection conn;
    private volatile ConnectionState state = ConnectionState.DISCONNECTED;
    private int reconnectAttempt;
    private final Map<String, Registration> registrations = new ConcurrentHashMap<>();
    private final Set<SetCore> sets = ConcurrentHashMap.newKeySet();
    private final List<ListenerQueue<ConnectionState>> stateWatchers = new CopyOnWriteArrayList<>();
    private final ScheduledThreadPoolExecutor scheduler;
    private final ExecutorService listenerPool;

    private DiscoverdClient(Builder b, DaemonAddress address) {
        this.address = address;
        this.heartbeatMillis = b.heartbeatInterval.toMillis();
        this.callTimeoutMillis = b.callTimeout.toMillis();
        this.connectTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, b.connectTimeout.toMillis());
        this.backoffInitialMillis = b.backoffInitial.toMillis();
        this.backoffMaxMillis = b.backoffMax.toMillis();
        this.listenerQueueCapacity = b.listenerQueueCapacity;
        this.scheduler = new ScheduledThreadPoolExecutor(2, threads("discoverd-client-scheduler-"));
        this.scheduler.setRemoveOnCancelPolicy(true);
        this.listenerPool = Executors.newCachedThreadPool(threads("discoverd-client-listener-"));
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Connects to the daemon named by the {@code DISCOVERD} environment variable ({@code host:port},
     * an optional {@code tcp://} prefix ignored), or {@code 127.0.0.1:1111} when it is unset, with
     * default settings. Blocks for at most the connect timeout (5 s).
     *
     * @throws DiscoverdException {@code DISCONNECTED} when the daemon cannot be reached
     * @throws IllegalArgumentException when {@code DISCOVERD} is malformed
     */
    public static DiscoverdClient connect() throws DiscoverdException {
        return builder().build();
    }

    /**
     * Connects to the daemon at {@code address} ({@code host:port}, optional {@code tcp://} prefix),
     * with default settings. Blocks for at most the connect timeout (5 s).
     *
     * @throws DiscoverdException {@code DISCONNECTED} when the daemon cannot be reached
     * @throws IllegalArgumentException when the address is malformed
     */
    public static DiscoverdClient connect(String address) throws DiscoverdException {
        return builder().address(address).build();
    }

    /** A builder with the defaults documented on its methods. */
    public static Builder builder() {
        return new Builder();
    }

    /** The daemon this client talks to, as {@code host:port}. */
    public String daemonAddress() {
        return address.toString();
    }

    /** The current connection state. Never blocks. */
    public ConnectionState state() {
        return state;
    }

    /**
     * Registers (or re-registers) an instance without attributes; see
     * {@link #register(String, String, Map)}.
     */
    public String register(String name, String addr) throws DiscoverdException {
        return register(name, addr, null);
    }

    /**
     * Announces an instance as online and keeps it online with a heartbeat every heartbeat interval
     * until it is unregistered or the client is closed. Registering the same {@code name} and
     * {@code addr} again replaces the attributes (the daemon reports an online update with the same
     * {@code created}) and the heartbeat carries the new ones; if that Register fails (refused,
     * timed out, disconnected) the heartbeat keeps the attributes it had. Blocks for one round trip.
     *
     * @param name  the service name
     * @param addr  {@code ip:port}, or {@code :port} for the daemon to prefix with its external IP
     * @param attrs attributes, or {@code null} for none; no {@code null} keys or values
     * @return the address as the daemon expanded it (e.g. {@code 127.0.0.1:8080}): the {@code addr}
     *         of this instance in every {@link ServiceSet}
     * @throws DiscoverdException {@code SERVER_ERROR} (e.g. {@code discoverd: Addr must be set}),
     *                            {@code DISCONNECTED}, {@code TIMEOUT}, {@code CLOSED}, {@code INTERRUPTED}
     */
    public String register(String name, String addr, Map<String, String> attrs) throws DiscoverdException {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(addr, "addr");
        if (attrs != null) {
            attrs.forEach((k, v) -> {
                Objects.requireNonNull(k, "attribute name");
                Objects.requireNonNull(v, "attribute value");
            });
        }
        Args args = new Args(name, addr, attrs);
        Registration existing = registrations.get(key(name, addr));
        // From now on heartbeats carry the new attributes: a heartbeat with the old ones sent after
        // this Register would flip them back until the next beat. If the Register fails the old ones
        // come back, so that a refused change is not slipped in by the next heartbeat.
        Args previous = existing == null ? null : existing.update(args);
        Object reply;
        try {
            Connection c = connection();
            reply = await(c.call("Agent.Register", args), "register " + name + " " + addr, c);
            if (!(reply instanceof String)) {
                c.abort("register reply is not a string");
                throw DiscoverdException.of(DiscoverdException.Kind.PROTOCOL,
                        "discoverd: register reply is not a string: " + reply);
            }
        } catch (DiscoverdException | RuntimeException e) {
            if (existing != null) {
                existing.revert(args, previous);
            }
            throw e;
        }
        String expanded = (String) reply;
        Registration fresh = new Registration(args, expanded);
        Registration r = registrations.merge(key(name, addr), fresh, (old, neu) -> {
            old.args = args;
            old.expanded = expanded;
            return old;
        });
        if (r == fresh) {
            if (state == ConnectionState.CLOSED) {
                registrations.remove(key(name, addr), fresh);
            } else {
                fresh.schedule();
            }
        }
        return expanded;
    }

    /**
     * Removes an instance from the daemon at once and stops its heartbeat if this client registered
     * it. Any instance can be unregistered, also one registered by another process; {@code addr} may
     * be the address as registered ({@code :8080}) or as expanded ({@code 127.0.0.1:8080}). Blocks for
     * one round trip. The heartbeat is stopped even when the call fails (the instance then expires
     * after its TTL).
     *
     * @throws DiscoverdException {@code SERVER_ERROR} for an unknown instance (text starting with
     *                            {@code 100: Key not found (}), {@code DISCONNECTED}, {@code TIMEOUT},
     *                            {@code CLOSED}, {@code INTERRUPTED}
     */
    public void unregister(String name, String addr) throws DiscoverdException {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(addr, "addr");
        for (Registration r : registrations.values()) {
            if (r.name.equals(name) && (r.addr.equals(addr) || addr.equals(r.expanded))) {
                r.cancel();
                registrations.remove(key(r.name, r.addr), r);
            }
        }
        Connection c = connection();
        await(c.call("Agent.Unregister", new Args(name, addr, null)), "unregister " + name + " " + addr, c);
    }

    /**
     * Unregisters every instance this client registered, trying each even when one fails. Blocks
     * for one round trip per instance.
     *
     * @throws DiscoverdException the first failure, later ones attached as suppressed
     */
    public void unregisterAll() throws DiscoverdException {
        DiscoverdException first = null;
        for (Registration r : new ArrayList<>(registrations.values())) {
            try {
                unregister(r.name, r.addr);
            } catch (DiscoverdException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * Opens a live set of a service's online instances. Blocks until the daemon's snapshot has
     * arrived (bounded by the call timeout), so the set is current when returned: it reflects every
     * registration and unregistration acknowledged before the call (PROTOCOL.md §5.7). Close it when
     * done.
     *
     * @throws DiscoverdException {@code DISCONNECTED}, {@code TIMEOUT}, {@code CLOSED}, {@code INTERRUPTED}
     */
    public ServiceSet serviceSet(String name) throws DiscoverdException {
        return openSet(Objects.requireNonNull(name, "name"), null);
    }

    /**
     * Lists a service once: subscribes, reads the snapshot up to its sentinel, makes one more round
     * trip, and closes the subscription. Blocks for about two round trips.
     *
     * <p>The extra round trip tells an empty service from a daemon that could not list it: a daemon
     * whose store is unreachable sends the sentinel and then ends the stream with its error
     * (PROTOCOL.md §5.5.4), and that error has arrived by the time the answer to a later call does.
     *
     * @return the online instances, oldest first
     * @throws DiscoverdException as {@link #serviceSet(String)}; {@code SERVER_ERROR} with the daemon's
     *         text (e.g. {@code discoverd: store unavailable: ...}) when the daemon ended the
     *         subscription with an error right after its snapshot
     */
    public List<ServiceInstance> services(String name) throws DiscoverdException {
        try (ServiceSet set = serviceSet(name)) {
            List<ServiceInstance> snapshot = set.services();
            SetCore core = ((SetView) set).core();
            Connection c = connection();
            try {
                // No daemon has this method: both ours and the original answer at once with an error
                // (PROTOCOL.md §2.5) and nothing else happens. Its answer is the round trip.
                await(c.call("Agent.Sync", new Args(name, "", null)), "list " + name, c);
            } catch (DiscoverdException e) {
                if (e.kind() != DiscoverdException.Kind.SERVER_ERROR) {
                    throw e;
                }
            }
            if (core.endError != null) {
                throw DiscoverdException.server("list " + name, core.endError);
            }
            return snapshot;
        }
    }

    /**
     * Registers an instance ({@link #register(String, String, Map)}) and opens a set of the same
     * service that knows it as self ({@link ServiceSet#selfAddr()}): the set's services leave it
     * out, its leader may be it. If the set cannot be opened the instance is unregistered again.
     *
     * @throws DiscoverdException as {@link #register(String, String, Map)} and {@link #serviceSet(String)}
     */
    public ServiceSet registerWithSet(String name, String addr, Map<String, String> attrs) throws DiscoverdException {
        String expanded = register(name, addr, attrs);
        try {
            return openSet(name, expanded);
        } catch (DiscoverdException e) {
            try {
                unregister(name, addr);
            } catch (DiscoverdException e2) {
                e.addSuppressed(e2);
            }
            throw e;
        }
    }

    /**
     * Registers an instance and waits, in the background, until it is the service's leader: for a
     * standby that must not serve before it leads. The registration is made before this method
     * returns (blocking for it); the future completes with this instance when it becomes leader
     * (at once if it already is), after which the set behind it is closed. The registration itself
     * stays, heartbeating, until unregistered.
     *
     * <p>Cancelling the future stops waiting. The future fails with {@code CLOSED} if the client is
     * closed first. Its dependent actions run on a listener thread.
     *
     * @throws DiscoverdException as {@link #registerWithSet}
     */
    public CompletableFuture<ServiceInstance> registerAndStandby(String name, String addr, Map<String, String> attrs)
            throws DiscoverdException {
        ServiceSet set = registerWithSet(name, addr, attrs);
        String self = set.selfAddr().orElseThrow();
        CompletableFuture<ServiceInstance> leader = new CompletableFuture<>();
        set.watchLeader(l -> {
            if (l.isPresent() && l.get().addr().equals(self)) {
                leader.complete(l.get());
            }
        });
        leader.whenComplete((r, e) -> set.close());
        ((SetView) set).core().closedFuture.whenComplete((r, e) -> {
            // On a listener thread, as promised: never run dependents on the thread closing the client.
            Runnable fail = () -> leader.completeExceptionally(DiscoverdException.of(DiscoverdException.Kind.CLOSED,
                    "discoverd: client closed before " + self + " became leader"));
            try {
                listenerPool.execute(fail);
            } catch (java.util.concurrent.RejectedExecutionException x) {
                fail.run(); // the pool is already shut down
            }
        });
        return leader;
    }

    /**
     * Registers a listener for the connection state: it receives the current state at once, then
     * every change ({@link ConnectionState#DISCONNECTED} when the daemon goes away,
     * {@link ConnectionState#CONNECTED} when it is back, finally {@link ConnectionState#CLOSED}).
     *
     * @param listener called on a listener thread, never concurrently with itself
     * @return the handle that cancels the listener
     */
    public ListenerHandle watchConnectionState(Consumer<ConnectionState> listener) {
        ListenerQueue<ConnectionState> q = newQueue(listener, false, "watchConnectionState");
        synchronized (lock) {
            q.offer(state);
            if (state != ConnectionState.CLOSED) {
                stateWatchers.add(q);
                q.onClose(() -> stateWatchers.remove(q));
            }
        }
        return q;
    }

    /**
     * Stops all heartbeats, closes every set and the connection, and stops the client's threads.
     * Does <em>not</em> unregister (see the class comment). Idempotent; never throws; does not block
     * on the network.
     */
    @Override
    public void close() {
        Connection c;
        synchronized (lock) {
            if (state == ConnectionState.CLOSED) {
                return;
            }
            state = ConnectionState.CLOSED;
            c = conn;
            conn = null;
            for (ListenerQueue<ConnectionState> q : stateWatchers) {
                q.offer(ConnectionState.CLOSED);
            }
            stateWatchers.clear();
        }
        // The connection first: with it closed nothing below queues a request (no CloseStream per set).
        if (c != null) {
            c.close();
        }
        registrations.values().forEach(Registration::cancel);
        registrations.clear();
        for (SetCore s : new ArrayList<>(sets)) {
            s.close();
        }
        scheduler.shutdownNow();
        listenerPool.shutdown(); // lets queued deliveries (the CLOSED state) finish
    }

    // ---------------------------------------------------------------------------------------------

    private static String key(String name, String addr) {
        return name + '\u0000' + addr;
    }

    private Connection connection() throws DiscoverdException {
        Connection c = conn;
        if (c != null) {
            return c;
        }
        if (state == ConnectionState.CLOSED) {
            throw DiscoverdException.of(DiscoverdException.Kind.CLOSED, "discoverd: client closed");
        }
        throw DiscoverdException.of(DiscoverdException.Kind.DISCONNECTED,
                "discoverd: disconnected from " + address + ", reconnecting");
    }

    /**
     * Waits for {@code f}, a call's answer on {@code c}, for up to the call timeout. No answer in time
     * means the daemon is gone without closing TCP: {@code c} is aborted, which starts the reconnect.
     */
    private Object await(CompletableFuture<?> f, String what, Connection c) throws DiscoverdException {
        try {
            return f.get(callTimeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(false);
            c.abort("no answer to " + what + " within " + callTimeoutMillis + " ms");
            throw DiscoverdException.of(DiscoverdException.Kind.TIMEOUT,
                    "discoverd: " + what + ": no answer from " + address + " within " + callTimeoutMillis + " ms");
        } catch (InterruptedException e) {
            f.cancel(false);
            Thread.currentThread().interrupt();
            throw DiscoverdException.of(DiscoverdException.Kind.INTERRUPTED, "discoverd: " + what + ": interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof DiscoverdException d) {
                if (d.kind() == DiscoverdException.Kind.SERVER_ERROR) {
                    throw DiscoverdException.server(what, d.serverMessage());
                }
                throw new DiscoverdException(d.kind(), d.getMessage(), d.serverMessage(), d.getCause());
            }
            c.abort(what + ": undecodable answer");
            throw DiscoverdException.of(DiscoverdException.Kind.PROTOCOL, "discoverd: " + what + ": " + e.getCause(), e.getCause());
        }
    }

    private ServiceSet openSet(String name, String selfAddr) throws DiscoverdException {
        Connection c = connection();
        SetCore core = new SetCore(this, name, selfAddr);
        sets.add(core);
        try {
            core.subscribe(c);
            await(core.firstCurrent, "subscribe " + name, c);
        } catch (DiscoverdException e) {
            core.close();
            throw e;
        }
        if (state == ConnectionState.CLOSED) {
            core.close();
            throw DiscoverdException.of(DiscoverdException.Kind.CLOSED, "discoverd: client closed");
        }
        return new SetView(this, core, Map.of(), true);
    }

    <T> ListenerQueue<T> newQueue(Consumer<? super T> listener, boolean coalesce, String what) {
        return new ListenerQueue<>(listenerPool, Objects.requireNonNull(listener, "listener"), listenerQueueCapacity, coalesce, what);
    }

    void forget(SetCore core) {
        sets.remove(core);
    }

    /**
     * A set's stream ended with a final frame it did not ask for: subscribe again after the reconnect
     * backoff for the {@code streak}-th time in a row (0 for the first). Logged as a warning once per
     * episode; an episode ends when a stream becomes current again.
     */
    void streamEnded(SetCore core, Connection c, String error, int streak) {
        LOG.log(streak == 0 ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG, "discoverd client: subscription to "
                + core.name + " ended by the daemon (" + error + "); resubscribing");
        try {
            scheduler.schedule(() -> {
                if (conn == c && !core.isClosed()) {
                    try {
                        core.subscribe(c);
                    } catch (DiscoverdException e) {
                        // connection lost meanwhile: the reconnect resubscribes
                    }
                }
            }, Backoff.reconnectDelayMillis(streak, backoffInitialMillis, backoffMaxMillis), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    private void connectFirst(long waitMillis) throws DiscoverdException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        int attempt = 0;
        while (true) {
            try {
                Connection c = Connection.open(address, connectTimeoutMillis, this::onConnectionClosed);
                if (install(c, true)) {
                    return;
                }
                throw new IOException("connection closed during start-up");
            } catch (IOException e) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    close();
                    throw DiscoverdException.of(DiscoverdException.Kind.DISCONNECTED,
                            "discoverd: cannot connect to " + address + ": " + e.getMessage(), e);
                }
                long d = Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1,
                        Backoff.reconnectDelayMillis(attempt++, backoffInitialMillis, backoffMaxMillis));
                try {
                    Thread.sleep(d);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    close();
                    throw DiscoverdException.of(DiscoverdException.Kind.INTERRUPTED, "discoverd: interrupted while connecting", ie);
                }
            }
        }
    }

    /**
     * Makes {@code c} the current connection unless it already died or the client is closed, and
     * reports {@link ConnectionState#CONNECTED} when {@code report} (else {@link #reportConnected} does,
     * after the reconnect work).
     */
    private boolean install(Connection c, boolean report) {
        synchronized (lock) {
            if (state == ConnectionState.CLOSED || c.isClosed()) {
                c.close();
                return false;
            }
            conn = c;
            reconnectAttempt = 0;
        }
        if (report) {
            reportConnected(c);
        }
        return true;
    }

    /** Reports {@link ConnectionState#CONNECTED} if {@code c} is still the current connection. */
    private void reportConnected(Connection c) {
        synchronized (lock) {
            if (conn != c || state != ConnectionState.DISCONNECTED) {
                return;
            }
            state = ConnectionState.CONNECTED;
            for (ListenerQueue<ConnectionState> q : stateWatchers) {
                q.offer(ConnectionState.CONNECTED);
            }
        }
    }

    private void onConnectionClosed(Connection c, Throwable cause) {
        synchronized (lock) {
            if (conn != c) {
                return;
            }
            conn = null;
            if (state == ConnectionState.CONNECTED) { // else lost again before the reconnect work was done
                state = ConnectionState.DISCONNECTED;
                for (ListenerQueue<ConnectionState> q : stateWatchers) {
                    q.offer(ConnectionState.DISCONNECTED);
                }
            }
        }
        LOG.log(System.Logger.Level.INFO, "discoverd client: disconnected from " + address
                + (cause == null ? "" : ": " + cause) + "; reconnecting");
        DiscoverdException why = c.disconnected();
        for (SetCore s : sets) {
            s.connectionLost(c, why);
        }
        scheduleReconnect();
    }

    private void scheduleReconnect() {
        long delay;
        synchronized (lock) {
            if (state == ConnectionState.CLOSED) {
                return;
            }
            delay = Backoff.reconnectDelayMillis(reconnectAttempt++, backoffInitialMillis, backoffMaxMillis);
        }
        try {
            scheduler.schedule(this::reconnect, delay, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed meanwhile
        }
    }

    private void reconnect() {
        if (state == ConnectionState.CLOSED) {
            return;
        }
        Connection c;
        try {
            c = Connection.open(address, connectTimeoutMillis, this::onConnectionClosed);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "discoverd client: reconnect to " + address + " failed: " + e);
            scheduleReconnect();
            return;
        }
        if (!install(c, false)) {
            scheduleReconnect();
            return;
        }
        LOG.log(System.Logger.Level.INFO, "discoverd client: reconnected to " + address);
        // Heartbeats first, so that resubscribed sets already see instances the daemon let expire.
        // CONNECTED is reported once every heartbeat is answered and every set reconciled (or each
        // has failed: a heartbeat the daemon refuses still leaves the connection usable).
        List<CompletableFuture<?>> work = new ArrayList<>();
        for (Registration r : registrations.values()) {
            work.add(r.heartbeatNow(c));
        }
        for (SetCore s : sets) {
            try {
                work.add(s.subscribe(c));
            } catch (DiscoverdException e) {
                return; // lost again; onConnectionClosed schedules the next attempt
            }
        }
        CompletableFuture.allOf(work.stream().map(f -> f.handle((r, e) -> null)).toArray(CompletableFuture[]::new))
                .thenRun(() -> reportConnected(c));
    }

    /**
     * Settings of a {@link DiscoverdClient}. Not thread-safe; {@link #build()} may be called more
     * than once.
     */
    public static final class Builder {
        private String address;
        private Map<String, String> env = System.getenv();
        private Duration heartbeatInterval = Duration.ofSeconds(5);
        private Duration callTimeout = Duration.ofSeconds(10);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration initialConnectWait = Duration.ZERO;
        private Duration backoffInitial = Duration.ofMillis(100);
        private Duration backoffMax = Duration.ofSeconds(2);
        private int listenerQueueCapacity = 10_000;

        private Builder() {
        }

        /**
         * The daemon, {@code host:port} or {@code [ipv6]:port}, an optional {@code tcp://} prefix
         * ignored. Default: the {@code DISCOVERD} environment variable, else {@code 127.0.0.1:1111}.
         * {@code null} restores the default.
         */
        public Builder address(String hostPort) {
            this.address = hostPort;
            return this;
        }

        /**
         * The environment the default address is read from ({@code DISCOVERD}). Default:
         * {@link System#getenv()}. For programs that resolve the environment themselves (a
         * command line with its own flags, tests).
         */
        public Builder environment(Map<String, String> env) {
            this.env = Map.copyOf(env);
            return this;
        }

        /**
         * The daemon {@link #build()} would connect to, as {@code host:port}: {@link #address} when
         * set, else {@code DISCOVERD} from the {@link #environment}, else {@code 127.0.0.1:1111}.
         * Does not connect; for messages that must name the daemon even when it cannot be reached.
         *
         * @throws IllegalArgumentException when the address is malformed
         */
        public String daemonAddress() {
            return resolve().toString();
        }

        private DaemonAddress resolve() {
            return address != null ? DaemonAddress.parse(address) : DaemonAddress.fromEnvironment(env);
        }

        /**
         * How often registrations are refreshed. Default 5 s, the original client's interval; each
         * beat comes up to 10 % earlier (jitter). Keep it well below the daemon's TTL (10 s).
         */
        public Builder heartbeatInterval(Duration interval) {
            this.heartbeatInterval = positive(interval, "heartbeatInterval");
            return this;
        }

        /**
         * How long a blocking call waits for the daemon's answer, and how long a heartbeat may go
         * unanswered. Either running out means the daemon is gone without closing TCP: the connection is
         * dropped and re-established. Default 10 s.
         */
        public Builder callTimeout(Duration timeout) {
            this.callTimeout = positive(timeout, "callTimeout");
            return this;
        }

        /** Bound on one connection attempt: TCP connect plus the CONNECT handshake. Default 5 s. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * How long {@link #build()} keeps retrying when the daemon cannot be reached at first.
         * Default zero: one attempt, so a missing daemon is reported at once.
         */
        public Builder initialConnectWait(Duration wait) {
            if (wait == null || wait.isNegative()) {
                throw new IllegalArgumentException("initialConnectWait must be >= 0");
            }
            this.initialConnectWait = wait;
            return this;
        }

        /**
         * Delays between reconnect attempts: the n-th waits {@code min(max, initial * 2^n)}, of which a
         * random half is taken off (jitter). Default 100 ms to 2 s.
         */
        public Builder reconnectBackoff(Duration initial, Duration max) {
            positive(initial, "initial backoff");
            positive(max, "max backoff");
            if (max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("max backoff below initial backoff");
            }
            this.backoffInitial = initial;
            this.backoffMax = max;
            return this;
        }

        /**
         * The most events queued for one {@link ServiceSet#watch} or connection-state listener.
         * A listener that falls further behind is cancelled (its handle's
         * {@link ListenerHandle#isActive()} turns false and a warning is logged) instead of holding
         * unbounded memory or stalling the connection. Leader listeners keep only the newest value and
         * are never cancelled. Default 10 000.
         */
        public Builder listenerQueueCapacity(int capacity) {
            if (capacity < 1) {
                throw new IllegalArgumentException("listenerQueueCapacity must be >= 1");
            }
            this.listenerQueueCapacity = capacity;
            return this;
        }

        /**
         * Connects (blocking for up to the connect timeout, or {@link #initialConnectWait} when longer)
         * and returns the client.
         *
         * @throws DiscoverdException {@code DISCONNECTED} when the daemon cannot be reached,
         *                            {@code INTERRUPTED}
         * @throws IllegalArgumentException when the address is malformed
         */
        public DiscoverdClient build() throws DiscoverdException {
            DiscoverdClient c = new DiscoverdClient(this, resolve());
            c.connectFirst(initialConnectWait.toMillis());
            return c;
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(what + " must be positive");
            }
            return d;
        }
    }

    /** For tests: the sets currently open. */
    Set<SetCore> openSets() {
        return Set.copyOf(sets);
    }

    /** For tests: the current connection, if any. */
    Optional<Connection> currentConnection() {
        return Optional.ofNullable(conn);
    }
}
