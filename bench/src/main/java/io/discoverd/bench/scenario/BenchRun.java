package io.discoverd.bench.scenario;

import io.discoverd.bench.Profile;
import io.discoverd.bench.daemon.DaemonUnderTest;
import io.discoverd.bench.load.ClosedLoop;
import io.discoverd.bench.load.CpuClock;
import io.discoverd.bench.raw.RawStore;
import io.discoverd.bench.report.Report;
import io.discoverd.bench.report.Row;
import io.discoverd.bench.store.StoreServer;
import io.discoverd.bench.wire.WireClient;
import io.discoverd.bench.wire.WireConnection;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;

/**
 * What a scenario runs against for one backend: the store process, the daemon process on it, the
 * raw store client and the wire load generator, with the run's sizes and its report.
 *
 * @param registrationTtl the daemon's registrationTtl, in s (also the raw etcd leases' TTL)
 */
public record BenchRun(String backend, Profile profile, StoreServer store, DaemonUnderTest daemon, RawStore raw,
                       WireClient wire, Report report, PrintStream out, long registrationTtl) {

    /** A compiling JVM is quiet when it compiled for at most this share of a warm-up round, in %. */
    static final double QUIET_PERCENT = 5;

    /** Drives one side (daemon or raw) of a comparison for about {@code millis} ms. */
    @FunctionalInterface
    public interface Drive {
        void run(long millis) throws Exception;
    }

    /**
     * JIT compile time so far, in ms, of the daemon's JVM and of this one (the raw client and the load
     * generator), from their CompilationMXBeans.
     */
    public record Jit(long daemonMillis, long benchMillis) {
        /** The compile time spent since {@code earlier}, per JVM. */
        public Jit since(Jit earlier) {
            return new Jit(daemonMillis - earlier.daemonMillis, benchMillis - earlier.benchMillis);
        }
    }

    /** The compile time so far of the daemon's JVM and this one. */
    public Jit jit() {
        return new Jit(daemon.compilationMillis(), ManagementFactory.getCompilationMXBean().getTotalCompilationTime());
    }

    /**
     * Warm-up before a timed comparison: rounds of {@link Profile#warmupMillis()} on the daemon's side,
     * then as long on the raw side, until a round in which neither the daemon's JVM nor this one
     * compiled for more than {@value #QUIET_PERCENT} % of the round's time, or
     * {@link Profile#warmupRounds()} rounds. Why: on two cores a C2 compiler still working through
     * its queue takes a large share of the machine (measured: half the daemon's CPU in a heartbeat
     * run after one fixed 10 s warm-up), so a fixed warm-up times the JIT as much as the daemon.
     *
     * @return a description of the warm-up for the scenario's note
     */
    public String warmUp(Drive daemonSide, Drive rawSide) throws Exception {
        long round = profile.warmupMillis();
        int rounds = 0;
        Jit spent;
        long elapsed;
        boolean quiet;
        boolean idle = false;
        do {
            Jit before = jit();
            long t0 = System.nanoTime();
            daemonSide.run(round);
            rawSide.run(round);
            elapsed = (System.nanoTime() - t0) / 1_000_000;
            spent = jit().since(before);
            quiet = Math.max(spent.daemonMillis(), spent.benchMillis()) <= elapsed * QUIET_PERCENT / 100;
            rounds++;
            if (store.warmUpPauseMillis() > 0 && rounds < profile.warmupRounds() && daemon.claimWarmUpIdle()) {
                // Not a wait for a condition: the store's clients must go without a request for a while
                // (StoreServer.warmUpPauseMillis says why); a counted round follows.
                idle = true;
                Thread.sleep(store.warmUpPauseMillis());
                quiet = false;
            }
        } while (rounds < profile.warmupRounds() && !quiet);
        return String.format(Locale.ROOT, "warm-up: %d round(s) of %d ms per side (until neither JVM compiled for more than"
                        + " %.0f %% of a round's time, both sides together, at most %d round(s)); the last round (%d ms) compiled %d ms"
                        + " in the daemon, %d ms in the bench%s%s",
                rounds, round, QUIET_PERCENT, profile.warmupRounds(), elapsed, spent.daemonMillis(), spent.benchMillis(),
                quiet ? "" : ": still compiling when the rounds ran out",
                idle ? "; after the first round the bench paused for " + store.warmUpPauseMillis()
                        + " ms, once in the run, so that both ZooKeeper clients (the daemon's, the raw one) sent their first ping"
                        + " (what either JVM compiled meanwhile is in no round's count)" : "");
    }

    /** The daemon's CPU time (ns) and this JVM's and the machine's clocks at one moment ({@link #cpuRows}). */
    public record Cpu(long daemonNanos, CpuClock clock) {
    }

    /** Reads the CPU clocks now. */
    public Cpu cpu() {
        return new Cpu(daemon.cpuNanos(), CpuClock.now());
    }

    /**
     * Adds the CPU split of a timed run of {@code ops} operations between {@code start} and {@code end}:
     * "daemon CPU per {@code what}" and "load generator CPU per {@code what}" (µs) and the machine's
     * busy share (%).
     */
    public void cpuRows(Scenario scenario, String what, Cpu start, Cpu end, double ops) {
        cpuRows(scenario, what, start, end, ops, null, null);
    }

    /**
     * {@link #cpuRows(Scenario, String, Cpu, Cpu, double)}, with the raw side's run of as many
     * operations between {@code rawStart} and {@code rawEnd} (a run timed in parts: its parts joined
     * by {@link CpuClock#plus}) beside the load generator's CPU (the raw
     * side's whole client) and the machine's busy share; {@code null} clocks: the daemon's side alone.
     */
    public void cpuRows(Scenario scenario, String what, Cpu start, Cpu end, double ops, CpuClock rawStart, CpuClock rawEnd) {
        boolean raw = rawStart != null;
        row(Row.alone(backend, scenario.name(), "daemon CPU per " + what, "µs",
                (end.daemonNanos() - start.daemonNanos()) / 1e3 / ops, null, null));
        row(figure(scenario, "load generator CPU per " + what, "µs", end.clock().ownNanosSince(start.clock()) / 1e3 / ops,
                raw ? rawEnd.ownNanosSince(rawStart) / 1e3 / ops : null));
        row(figure(scenario, "machine CPU busy while timed", "%", Math.round(end.clock().machineBusyPercentSince(start.clock())),
                raw ? (double) Math.round(rawEnd.machineBusyPercentSince(rawStart)) : null));
    }

    private Row figure(Scenario scenario, String metric, String unit, double daemonValue, Double rawValue) {
        return rawValue == null ? Row.alone(backend, scenario.name(), metric, unit, daemonValue, null, null)
                : Row.compared(backend, scenario.name(), metric, unit, daemonValue, rawValue, null, null);
    }

    /** Adds a row to the report (and prints it). */
    public void row(Row row) {
        report.add(row, out);
    }

    /** Adds a note, prefixed with the backend and scenario. */
    public void note(Scenario scenario, String text) {
        report.note("[" + backend + "] " + scenario.name() + ": " + text);
    }

    /**
     * Calls in flight on one load connection in the throughput scenarios (1 and 3): their C calls in
     * flight are pipelined over C / 8 connections, as the raw store client sends its C over its one
     * store connection.
     */
    public static final int IN_FLIGHT_PER_CONNECTION = 8;

    /**
     * Opens the connections for {@code inFlight} pipelined calls: {@code inFlight / }{@value
     * #IN_FLIGHT_PER_CONNECTION}, at least one. Operation {@code i} goes on connection {@code i % size}.
     */
    public List<WireConnection> connectPipelined(int inFlight) throws Exception {
        return connect(Math.max(1, inFlight / IN_FLIGHT_PER_CONNECTION));
    }

    /** Opens {@code n} upgraded connections to the daemon (at most 256 handshakes at a time). */
    public List<WireConnection> connect(int n) throws Exception {
        List<WireConnection> all = new ArrayList<>(n);
        for (int from = 0; from < n; from += 256) {
            List<CompletableFuture<WireConnection>> batch = new ArrayList<>();
            for (int i = from; i < Math.min(n, from + 256); i++) {
                batch.add(wire.connect(daemon.port()).toCompletionStage().toCompletableFuture());
            }
            for (CompletableFuture<WireConnection> c : batch) {
                all.add(c.get(60, TimeUnit.SECONDS));
            }
        }
        return all;
    }

    /**
     * Fails when a stream on any of the connections ended with an error (a subscription the daemon
     * could not serve), or a connection was closed by the daemon.
     */
    public static void checkStreams(List<WireConnection> connections, String what) {
        long failed = 0;
        String first = null;
        for (WireConnection c : connections) {
            List<String> errors = c.streamErrors();
            if (!errors.isEmpty()) {
                failed++;
                first = first == null ? errors.get(0) : first;
            }
            if (c.closed().isDone()) {
                failed++;
                first = first == null ? "connection closed by the daemon" : first;
            }
        }
        if (failed > 0) {
            throw new IllegalStateException(what + ": " + failed + " of " + connections.size()
                    + " connections had a stream end in error or were closed, e.g. " + first);
        }
    }

    /**
     * Untimed cleanup at the end of a scenario, after its rows and notes: unregisters the {@code count}
     * instances it registered (instance {@code i} is {@code addr.apply(i)} in {@code service.apply(i)})
     * through the daemon, and through the raw client too when {@code raw}, {@code inFlight} at a time;
     * then deletes the service directories that leaves empty ({@link RawStore#deleteEmptyServices}).
     * Why: what a scenario leaves registered stays in the daemon and the store for every later one,
     * so scale's "1,000 instances" step ran with over 100,000 held. Best effort: a failed unregister
     * is counted and reported in a note of {@code scenario}, and the run goes on. Ends with
     * {@link #settle}, so that the next scenario starts on a machine at rest.
     */
    public void unregisterAll(Scenario scenario, int inFlight, int count, IntFunction<String> service, IntFunction<String> addr,
                              boolean raw, String servicePrefix) throws Exception {
        long t0 = System.nanoTime();
        long daemonFailed;
        List<WireConnection> connections = connectPipelined(inFlight);
        try {
            daemonFailed = unregisterEach(inFlight, count, i -> connections.get(i % connections.size())
                    .unregister(service.apply(i), addr.apply(i)));
        } finally {
            close(connections);
        }
        long rawFailed = raw ? unregisterEach(inFlight, count, i -> this.raw.unregister(service.apply(i), addr.apply(i))) : 0;
        int emptied = this.raw.deleteEmptyServices("/discoverd", servicePrefix);
        double seconds = (System.nanoTime() - t0) / 1e9;
        // The next scenario starts on a machine at rest, not while the store works off the deletes.
        Rest rest = settle();
        note(scenario, String.format(Locale.ROOT, "afterwards its %,d instances were unregistered through the daemon (%d failed)%s"
                + " in %.1f s, and %d emptied service directories deleted, so that later scenarios hold only their own; then %s",
                count, daemonFailed, raw ? String.format(Locale.ROOT, " and the raw client (%d failed)", rawFailed) : "",
                seconds, emptied, rest));
    }

    /**
     * Best-effort cleanup: calls {@code unregister} for {@code 0 .. count-1}, {@code inFlight} at a
     * time; a failed call is counted, not thrown, so the run goes on.
     *
     * @return how many failed
     */
    public static long unregisterEach(int inFlight, int count, IntFunction<CompletionStage<?>> unregister) throws Exception {
        LongAdder failed = new LongAdder();
        ClosedLoop.run(inFlight, count, i -> unregister.apply(i).handle((v, e) -> {
            if (e != null) {
                failed.increment();
            }
            return null;
        }), null, 1_800_000);
        return failed.sum();
    }

    /** The machine is at rest below this busy share of all its cores, in %. */
    static final int REST_PERCENT = 15;
    /** The window over which {@link #settle} reads the machine's busy share, in ms. */
    static final long REST_WINDOW_MS = 500;
    /** The longest {@link #settle} waits, in ms. */
    static final long REST_MAX_MS = 30_000;

    /**
     * What {@link #settle} found.
     *
     * @param seconds     how long it waited, in s
     * @param busyPercent the machine's busy share of all cores in the last window, in %; -1 unknown
     */
    public record Rest(double seconds, double busyPercent) {
        /** Whether the last window was under {@link #REST_PERCENT}. */
        public boolean reached() {
            return busyPercent >= 0 && busyPercent < REST_PERCENT;
        }

        @Override
        public String toString() {
            if (busyPercent < 0) {
                return "machine load unknown (no /proc/stat), not waited";
            }
            return reached() ? String.format(Locale.ROOT, "at rest after %.1f s", seconds)
                    : String.format(Locale.ROOT, "still %.0f %% busy after %.1f s (not at rest)", busyPercent, seconds);
        }
    }

    /**
     * Waits until the machine is at rest: a window of {@value #REST_WINDOW_MS} ms in which all its
     * cores together were under {@value #REST_PERCENT} % busy (/proc/stat), for at most about
     * {@value #REST_MAX_MS} ms (windows started before then). Latencies at a size are sampled at rest,
     * not while the store and the daemon still work off the fill that made the size (etcd's commits
     * and Go GC, the JVMs' GC and JIT), and a throughput side starts on a machine that the other
     * side has stopped loading. Where the machine's load cannot be read it does not wait.
     */
    public Rest settle() throws InterruptedException {
        long t0 = System.nanoTime();
        double busy;
        do {
            CpuClock start = CpuClock.now();
            Thread.sleep(REST_WINDOW_MS); // the window over which the machine's busy share is read
            busy = CpuClock.now().machineBusyPercentSince(start);
            if (busy < REST_PERCENT) { // at rest, or unknown (-1)
                break;
            }
        } while (System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(REST_MAX_MS));
        return new Rest((System.nanoTime() - t0) / 1e9, busy);
    }

    /** Closes connections and waits until each is closed. */
    public static void close(List<WireConnection> connections) throws Exception {
        connections.forEach(WireConnection::close);
        for (WireConnection c : connections) {
            c.closed().get(30, TimeUnit.SECONDS);
        }
    }
}
