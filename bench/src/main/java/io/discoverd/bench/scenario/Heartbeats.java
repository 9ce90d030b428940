package io.discoverd.bench.scenario;

import io.discoverd.bench.load.Addrs;
import io.discoverd.bench.load.ClosedLoop;
import io.discoverd.bench.report.Row;
import io.discoverd.bench.wire.WireConnection;
import java.util.List;

/**
 * Scenario 3: heartbeats (a Register of an instance already registered, with the same attrs) sent
 * as fast as C calls in flight allow for a fixed time, the store writes they cost (ZooKeeper's zxid,
 * etcd's revision, read before and after) and the daemon's CPU per heartbeat (its own JVM's process
 * CPU time). The C in flight are pipelined over C / {@value BenchRun#IN_FLIGHT_PER_CONNECTION} connections.
 * The raw baseline refreshes the same number of instances with C in flight over its one store
 * connection: a data write on ZooKeeper (the cheapest store write), a lease keep-alive on etcd.
 */
public final class Heartbeats implements Scenario {

    private static final int SERVICES = 10;

    @Override
    public String name() {
        return "3 heartbeat";
    }

    @Override
    public void run(BenchRun run) throws Exception {
        int h = run.profile().heartbeatInstances();
        int c = run.profile().concurrency();
        long millis = run.profile().heartbeatMillis();
        boolean zookeeper = run.backend().equals("zookeeper");
        List<WireConnection> connections = run.connectPipelined(c);
        int n = connections.size();
        try {
            ClosedLoop.run(c, h, i -> connections.get(i % n).register(service(i), Addrs.of(4, i), RegisterThroughput.ATTRS),
                    null, 600_000);
            ClosedLoop.run(c, h, i -> run.raw().register(service(i), Addrs.of(4, i), RegisterThroughput.ATTRS_JSON), null, 600_000);

            // Warm-up, then the timed runs; instance i % h on connection i % n.
            String warm = run.warmUp(ms -> ClosedLoop.runFor(c, ms, i -> heartbeat(connections, h, i)),
                    ms -> ClosedLoop.runFor(c, ms, i -> run.raw().refresh(service(i % h), Addrs.of(4, i % h))));
            BenchRun.Jit jit0 = run.jit();
            long writes0 = run.store().writeCounter();
            BenchRun.Cpu cpu0 = run.cpu();
            long[] daemon = ClosedLoop.runFor(c, millis, i -> heartbeat(connections, h, i));
            BenchRun.Cpu cpu1 = run.cpu();
            long writes1 = run.store().writeCounter();
            BenchRun.Jit jit = run.jit().since(jit0);

            long[] raw = ClosedLoop.runFor(c, millis, i -> run.raw().refresh(service(i % h), Addrs.of(4, i % h)));

            double daemonRate = daemon[0] / (daemon[1] / 1e9);
            double rawRate = raw[0] / (raw[1] / 1e9);
            double factor = zookeeper ? 10 : 0.8;
            run.row(Row.compared(run.backend(), name(), "throughput", "ops/s", daemonRate, rawRate,
                    zookeeper ? "≥ 10 × raw writes" : "≥ 0.80 × raw keep-alives", daemonRate >= factor * rawRate));
            long writes = writes1 - writes0;
            run.row(Row.alone(run.backend(), name(), "store writes per heartbeat", "writes", (double) writes / daemon[0],
                    zookeeper ? "0" : "0 (keep-alives only)", writes == 0));
            run.cpuRows(this, "heartbeat", cpu0, cpu1, daemon[0]);
            run.row(Row.alone(run.backend(), name(), "daemon JIT compiling while timed", "ms", jit.daemonMillis(), null, null));
            run.note(this, h + " instances heartbeated for " + millis + " ms with " + c + " in flight over " + n
                    + " connections, pipelined (" + daemon[0] + " heartbeats, " + writes + " store writes: "
                    + (zookeeper ? "zxid" : "revision") + " before and after); raw: " + run.raw().refreshCalls() + "; " + warm);
            run.unregisterAll(this, c, h, Heartbeats::service, i -> Addrs.of(4, i), true, "heartbeat-");
        } finally {
            BenchRun.close(connections);
        }
    }

    private static java.util.concurrent.CompletionStage<?> heartbeat(List<WireConnection> connections, int h, int i) {
        int instance = i % h;
        return connections.get(i % connections.size()).register(service(instance), Addrs.of(4, instance), RegisterThroughput.ATTRS);
    }

    private static String service(int i) {
        return "heartbeat-" + (i % SERVICES);
    }
}
