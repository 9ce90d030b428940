package io.discoverd.bench.scenario;

import io.discoverd.bench.load.Addrs;
import io.discoverd.bench.load.ClosedLoop;
import io.discoverd.bench.report.Row;
import io.discoverd.bench.wire.WireConnection;
import java.util.List;
import java.util.Locale;

/**
 * Scenario 6: the daemon's retained heap per registration and per idle connection, read from the
 * daemon's own JVM (used heap right after full collections, before and after), so neither the store
 * nor the load generator is counted.
 */
public final class Memory implements Scenario {

    private static final int SERVICES = 1_000;

    @Override
    public String name() {
        return "6 memory";
    }

    @Override
    public void run(BenchRun run) throws Exception {
        int registrations = run.profile().scaleSteps()[run.profile().scaleSteps().length - 1];
        int c = run.profile().concurrency();
        List<WireConnection> connections = run.connect(c);
        long before;
        long after;
        try {
            before = run.daemon().heapAfterGc();
            ClosedLoop.run(c, registrations, i -> connections.get(i % c)
                    .register("memory-" + (i % SERVICES), Addrs.of(9, i), RegisterThroughput.ATTRS), null, 1_800_000);
        } finally {
            BenchRun.close(connections);
        }
        after = run.daemon().heapAfterGc();
        double perRegistration = (double) (after - before) / registrations;
        run.row(Row.alone(run.backend(), name(), String.format(Locale.ROOT, "heap per registration at %,d", registrations),
                "B", Math.round(perRegistration), "≤ 2,048 B", perRegistration <= 2048));

        int idle = run.profile().idleConnections();
        long heap0 = run.daemon().heapAfterGc();
        List<WireConnection> open = run.connect(idle);
        long heap1;
        try {
            heap1 = run.daemon().heapAfterGc();
        } finally {
            BenchRun.close(open);
        }
        double perConnection = (double) (heap1 - heap0) / idle;
        run.row(Row.alone(run.backend(), name(), String.format(Locale.ROOT, "heap per idle connection at %,d", idle),
                "B", Math.round(perConnection), "≤ 16,384 B", perConnection <= 16_384));
        run.note(this, String.format(Locale.ROOT, "%,d registrations over %d services (attrs of 2 entries, no subscribers),"
                + " then %,d upgraded gob connections with no calls; the daemon's used heap after 3 System.gc() through its"
                + " own MemoryMXBean before and after (%,d → %,d B; %,d → %,d B)", registrations, SERVICES, idle,
                before, after, heap0, heap1));
        run.unregisterAll(this, c, registrations, i -> "memory-" + (i % SERVICES), i -> Addrs.of(9, i), false, "memory-");
    }
}
