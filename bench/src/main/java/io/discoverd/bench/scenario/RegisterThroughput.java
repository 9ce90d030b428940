package io.discoverd.bench.scenario;

import io.discoverd.bench.load.Addrs;
import io.discoverd.bench.load.ClosedLoop;
import io.discoverd.bench.load.Latencies;
import io.discoverd.bench.report.Row;
import io.discoverd.bench.wire.WireConnection;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Scenario 1: N new instances registered over C gob connections through the daemon, against the raw
 * store client making the same store calls with C in flight.
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
        int n = run.profile().registrations();
        int c = run.profile().concurrency();
        if (run.backend().equals("etcd")) {
            // For its first 15 s an etcd daemon reads a key it does not hold before creating it (its
            // clients' instances exist after a restart); afterwards it makes the raw client's two calls.
            long waitNanos = run.daemon().startedNanos() + TimeUnit.SECONDS.toNanos(ETCD_RESTART_WINDOW_S + 1) - System.nanoTime();
            if (waitNanos > 0) {
                Thread.sleep(TimeUnit.NANOSECONDS.toMillis(waitNanos));
            }
        }
        List<WireConnection> connections = run.connect(c);
        try {
            // Warm-up (not measured), each side, in other services: both JVMs must have compiled the path.
            // Every round registers new instances (a repeated address would be a heartbeat) into services
            // new to it, as the timed run does: the first registration of a service takes other paths.
            AtomicInteger daemonNext = new AtomicInteger();
            AtomicInteger rawNext = new AtomicInteger();
            AtomicInteger round = new AtomicInteger();
            String warm = run.warmUp(
                    ms -> {
                        String prefix = "warm-register-" + round.incrementAndGet() + "-";
                        ClosedLoop.runFor(c, ms, i -> connections.get(i % c).register(prefix + (i % SERVICES),
                                Addrs.of(1, daemonNext.getAndIncrement()), ATTRS));
                    },
                    ms -> {
                        String prefix = "warm-register-" + round.get() + "-";
                        ClosedLoop.runFor(c, ms, i -> run.raw().register(prefix + (i % SERVICES),
                                Addrs.of(1, rawNext.getAndIncrement()), ATTRS_JSON));
                    });

            Latencies rawLat = new Latencies();
            Latencies daemonLat = new Latencies();
            double rawRate = raw(run, c, n, "register-", 2, rawLat);
            BenchRun.Jit jit0 = run.jit();
            double daemonRate = daemon(connections, c, n, "register-", 2, daemonLat);
            BenchRun.Jit jit = run.jit().since(jit0);

            run.row(Row.compared(run.backend(), name(), "throughput", "ops/s", daemonRate, rawRate, "≥ 0.80 × raw",
                    daemonRate >= 0.8 * rawRate));
            run.row(Row.compared(run.backend(), name(), "latency p50", "ms", daemonLat.percentileMs(50),
                    rawLat.percentileMs(50), null, null));
            run.row(Row.compared(run.backend(), name(), "latency p99", "ms", daemonLat.percentileMs(99),
                    rawLat.percentileMs(99), null, null));
            run.row(Row.alone(run.backend(), name(), "daemon JIT compiling while timed", "ms", jit.daemonMillis(), null, null));
            run.note(this, n + " new instances over " + SERVICES + " services, " + c
                    + " in flight (daemon: one gob connection each, Agent.Register); raw: " + run.raw().registerCalls() + "; " + warm);
        } finally {
            BenchRun.close(connections);
        }
    }

    private static double daemon(List<WireConnection> connections, int c, int n, String prefix, int family,
                                 Latencies latencies) throws Exception {
        long nanos = ClosedLoop.run(c, n, i -> connections.get(i % c)
                .register(prefix + (i % SERVICES), Addrs.of(family, i), ATTRS), latencies, 600_000);
        return n / (nanos / 1e9);
    }

    private static double raw(BenchRun run, int c, int n, String prefix, int family, Latencies latencies) throws Exception {
        long nanos = ClosedLoop.run(c, n, i -> run.raw().register(prefix + (i % SERVICES), Addrs.of(family, i), ATTRS_JSON),
                latencies, 600_000);
        return n / (nanos / 1e9);
    }
}
