package io.discoverd.bench.scenario;

import io.discoverd.bench.load.Addrs;
import io.discoverd.bench.load.ClosedLoop;
import io.discoverd.bench.load.CpuClock;
import io.discoverd.bench.load.Latencies;
import io.discoverd.bench.report.Row;
import io.discoverd.bench.wire.WireConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiFunction;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Scenario 1: N new instances registered through the daemon with C calls in flight, pipelined over
 * C / {@value BenchRun#IN_FLIGHT_PER_CONNECTION} gob connections, against the raw store client making
 * the same store calls with C in flight over its one store connection.
 */
public final class RegisterThroughput implements Scenario {

    static final Map<String, String> ATTRS = Map.of("version", "1.4.2", "zone", "eu-west-1a");
    static final String ATTRS_JSON = "{\"version\":\"1.4.2\",\"zone\":\"eu-west-1a\"}";
    private static final int SERVICES = 100;
    /** EtcdBackend.RESTART_WINDOW_SECONDS: how long after start an etcd daemon reads unknown keys first. */
    private static final long ETCD_RESTART_WINDOW_S = 15;

    @Override
    public String name() {
        return "1 register";
    }

    @Override
    public void run(BenchRun run) throws Exception {
        int total = run.profile().registrations();
        int c = run.profile().concurrency();
        if (run.backend().equals("etcd")) {
            // For its first 15 s an etcd daemon reads a key it does not hold before creating it (its
            // clients' instances exist after a restart); afterwards it makes the raw client's two calls.
            long waitNanos = run.daemon().startedNanos() + TimeUnit.SECONDS.toNanos(ETCD_RESTART_WINDOW_S + 1) - System.nanoTime();
            if (waitNanos > 0) {
                Thread.sleep(TimeUnit.NANOSECONDS.toMillis(waitNanos));
            }
        }
        List<WireConnection> connections = run.connectPipelined(c);
        int n = connections.size();
        try {
            // Warm-up (not measured), each side, in other services: both JVMs must have compiled the path.
            // Every round registers new instances (a repeated address would be a heartbeat) into services
            // new to it, as the timed run does: the first registration of a service takes other paths.
            AtomicInteger daemonNext = new AtomicInteger();
            AtomicInteger rawNext = new AtomicInteger();
            AtomicInteger round = new AtomicInteger();
            Queue<Map.Entry<String, String>> daemonWarm = new ConcurrentLinkedQueue<>();
            Queue<Map.Entry<String, String>> rawWarm = new ConcurrentLinkedQueue<>();
            String warm = run.warmUp(
                    ms -> warmRound(c, ms, "warm-register-" + round.incrementAndGet() + "-", daemonNext, daemonWarm,
                            (i, instance) -> connections.get(i % n).register(instance.getKey(), instance.getValue(), ATTRS)),
                    ms -> warmRound(c, ms, "warm-register-" + round.get() + "-", rawNext, rawWarm,
                            (i, instance) -> run.raw().register(instance.getKey(), instance.getValue(), ATTRS_JSON)));
            // The warm-up's instances go before the timed runs, on both sides: left registered, several
            // rounds' worth (90k leases on etcd) slowed the store for both sides of the timed run.
            List<Map.Entry<String, String>> daemonLeft = List.copyOf(daemonWarm);
            List<Map.Entry<String, String>> rawLeft = List.copyOf(rawWarm);
            long warmFailed = BenchRun.unregisterEach(c, daemonLeft.size(), i -> connections.get(i % n)
                    .unregister(daemonLeft.get(i).getKey(), daemonLeft.get(i).getValue()))
                    + BenchRun.unregisterEach(c, rawLeft.size(), i -> run.raw().unregister(rawLeft.get(i).getKey(), rawLeft.get(i).getValue()));
            int emptied = run.raw().deleteEmptyServices("/discoverd", "warm-register-");

            // Timed in the order raw, daemon, daemon, raw (half of the instances each time), so that a
            // drift of the machine or the store during the runs (measured: the raw rate alone moved
            // between 3,255 and 5,434/s across runs) weighs on both sides alike; each side starts on a
            // machine at rest, not on the other side's (or the cleanup's) leftover work.
            Latencies rawLat = new Latencies();
            Latencies daemonLat = new Latencies();
            int half = total / 2;
            List<BenchRun.Rest> rests = new ArrayList<>();
            rests.add(run.settle());
            CpuClock raw0 = CpuClock.now();
            long rawNanos = raw(run, c, 0, half, rawLat);
            CpuClock raw1 = CpuClock.now();
            rests.add(run.settle());
            BenchRun.Jit jit0 = run.jit();
            BenchRun.Cpu daemon0 = run.cpu();
            long daemonNanos = daemon(connections, c, 0, half, daemonLat) + daemon(connections, c, half, total, daemonLat);
            BenchRun.Cpu daemon1 = run.cpu();
            BenchRun.Jit jit = run.jit().since(jit0);
            rests.add(run.settle());
            CpuClock raw2 = CpuClock.now();
            rawNanos += raw(run, c, half, total, rawLat);
            CpuClock rawEnd = raw1.plus(raw2, CpuClock.now());
            double rawRate = total / (rawNanos / 1e9);
            double daemonRate = total / (daemonNanos / 1e9);

            run.row(Row.compared(run.backend(), name(), "throughput", "ops/s", daemonRate, rawRate, "≥ 0.80 × raw",
                    daemonRate >= 0.8 * rawRate));
            run.row(Row.compared(run.backend(), name(), "latency p50", "ms", daemonLat.percentileMs(50),
                    rawLat.percentileMs(50), null, null));
            run.row(Row.compared(run.backend(), name(), "latency p99", "ms", daemonLat.percentileMs(99),
                    rawLat.percentileMs(99), null, null));
            // Where the CPU goes: the daemon's side adds a process (the daemon, holding the store
            // client) between the load generator and the store.
            run.cpuRows(this, "registration", daemon0, daemon1, total, raw0, rawEnd);
            run.row(Row.alone(run.backend(), name(), "daemon JIT compiling while timed", "ms", jit.daemonMillis(), null, null));
            run.note(this, total + " new instances over " + SERVICES + " services, " + c + " in flight, timed in halves in the order"
                    + " raw, daemon, daemon, raw, each side starting on a machine at rest (" + rests + ") (daemon: Agent.Register"
                    + " pipelined over " + n + " gob connections); raw: " + run.raw().registerCalls() + "; " + warm
                    + "; the warm-up's instances (" + daemonLeft.size() + " daemon, " + rawLeft.size()
                    + " raw; " + warmFailed + " failed) were unregistered before the timed runs" + (emptied > 0 ? ", and the " + emptied
                    + " service directories they left empty deleted (else ZooKeeper's container sweep deletes them"
                    + " during a later scenario)" : ""));
            run.unregisterAll(this, c, total, i -> "register-" + (i % SERVICES), i -> Addrs.of(2, i), true, "register-");
        } finally {
            BenchRun.close(connections);
        }
    }

    /**
     * One warm-up round of one side: new instances ({@code next} numbers their addresses) into the
     * round's services, each remembered in {@code made} for the cleanup before the timed runs.
     */
    private static void warmRound(int c, long ms, String prefix, AtomicInteger next, Queue<Map.Entry<String, String>> made,
                                  BiFunction<Integer, Map.Entry<String, String>, CompletionStage<?>> register) throws Exception {
        ClosedLoop.runFor(c, ms, i -> {
            Map.Entry<String, String> instance = Map.entry(prefix + (i % SERVICES), Addrs.of(1, next.getAndIncrement()));
            made.add(instance);
            return register.apply(i, instance);
        });
    }

    /** Registers instances {@code from .. to-1} through the daemon, {@code c} in flight; returns the elapsed ns. */
    private static long daemon(List<WireConnection> connections, int c, int from, int to, Latencies latencies) throws Exception {
        return ClosedLoop.run(c, to - from, i -> connections.get((from + i) % connections.size())
                .register("register-" + ((from + i) % SERVICES), Addrs.of(2, from + i), ATTRS), latencies, 600_000);
    }

    /** Registers instances {@code from .. to-1} through the raw client, {@code c} in flight; returns the elapsed ns. */
    private static long raw(BenchRun run, int c, int from, int to, Latencies latencies) throws Exception {
        return ClosedLoop.run(c, to - from, i -> run.raw().register("register-" + ((from + i) % SERVICES), Addrs.of(2, from + i),
                ATTRS_JSON), latencies, 600_000);
    }
}
