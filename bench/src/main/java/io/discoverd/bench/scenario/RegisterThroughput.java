package io.discoverd.bench.scenario;

import io.discoverd.bench.load.Addrs;
import io.discoverd.bench.load.ClosedLoop;
import io.discoverd.bench.load.Latencies;
import io.discoverd.bench.report.Row;
import io.discoverd.bench.wire.WireConnection;
import java.util.List;
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
            long warm = run.profile().warmupMillis();
            ClosedLoop.runFor(c, warm, i -> connections.get(i % c).register("warm-register-" + (i % SERVICES), Addrs.of(1, i), ATTRS));
            ClosedLoop.runFor(c, warm, i -> run.raw().register("warm-register-" + (i % SERVICES), Addrs.of(1, i), ATTRS_JSON));

            Latencies rawLat = new Latencies();
            Latencies daemonLat = new Latencies();
            double rawRate = raw(run, c, n, "register-", 2, rawLat);
            double daemonRate = daemon(connections, c, n, "register-", 2, daemonLat);

            run.row(Row.compared(run.backend(), name(), "throughput", "ops/s", daemonRate, rawRate, "≥ 0.80 × raw",
                    daemonRate >= 0.8 * rawRate));
            run.row(Row.compared(run.backend(), name(), "latency p50", "ms", daemonLat.percentileMs(50),
                    rawLat.percentileMs(50), null, null));
            run.row(Row.compared(run.backend(), name(), "latency p99", "ms", daemonLat.percentileMs(99),
                    rawLat.percentileMs(99), null, null));
            run.note(this, n + " new instances over " + SERVICES + " services after " + warm + " ms of warm-up on each side, " + c
                    + " in flight (daemon: one gob connection each, Agent.Register); raw: " + run.raw().registerCalls());
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
