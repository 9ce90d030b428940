package io.discoverd.bench.scenario;

import io.discoverd.bench.load.Addrs;
import io.discoverd.bench.load.Latencies;
import io.discoverd.bench.report.Row;
import io.discoverd.bench.wire.WireConnection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Scenario 4: S subscriber connections on one service; each change (a new instance registered on
 * another connection) must reach all of them. Delivery is timed from the moment the Register is sent
 * to each subscriber's receipt; the raw column is one raw watch's delivery of the same kind of change,
 * timed the same way. The daemon must hold one store watch for the service however many subscribe.
 */
public final class FanOut implements Scenario {

    private static final String SERVICE = "fanout";

    /**
     * Changes made before the timed ones, so that both JVMs have compiled the fan-out path: at least.
     * Traced at 10,000 subscribers on etcd (three scenario 4 runs), a change's full delivery took
     * 350–570 ms for the first six changes and settled near 200 ms from the seventh to the twelfth;
     * the JIT-quiet test below alone once ended the warm-up at the twelfth, still 220–285 ms.
     */
    private static final int WARM_CHANGES = 15;
    /**
     * ... and at most, while a JVM still compiles. On two busy cores the daemon's C2 compiler reaches
     * the fan-out path late: traced, its compiling went on through the tenth to the seventeenth change.
     */
    private static final int MAX_WARM_CHANGES = 40;
    /** Changes the raw watch sees before its timed ones (one watcher: nothing to fan out). */
    private static final int RAW_WARM_CHANGES = 2;
    /** Warm changes in a row in which neither JVM compiled much before the timed ones start. */
    private static final int QUIET_IN_A_ROW = 2;

    /** The change being timed: the instance's address, when its Register was sent, whether it counts. */
    private record Change(String addr, long sent, CountDownLatch left, boolean timed) {
    }

    /**
     * Makes one change (a Register on the writer's connection) and waits until every subscriber got
     * it; a timed change's deliveries are recorded by the subscribers' handler.
     */
    private static void deliver(List<WireConnection> subscribers, WireConnection writer, AtomicReference<Change> current,
                                Change ch) throws Exception {
        current.set(ch);
        writer.register(SERVICE, ch.addr(), RegisterThroughput.ATTRS).get(60, TimeUnit.SECONDS);
        if (!ch.left().await(120, TimeUnit.SECONDS)) {
            BenchRun.checkStreams(subscribers, "fan-out subscribers");
            throw new IllegalStateException(ch.left().getCount() + " of " + subscribers.size() + " subscribers missed " + ch.addr());
        }
    }

    @Override
    public String name() {
        return "4 fan-out";
    }

    @Override
    public void run(BenchRun run) throws Exception {
        int s = run.profile().subscribers();
        int changes = run.profile().fanOutChanges();
        String dir = "/discoverd/services/" + SERVICE;
        Latencies daemon = new Latencies();
        Latencies raw = new Latencies();
        AtomicReference<Change> current = new AtomicReference<>(new Change("", 0, new CountDownLatch(0), false));

        long watches0 = run.store().watchesOn(dir);
        List<WireConnection> subscribers = run.connect(s);
        List<WireConnection> writer = run.connect(1);
        try {
            CountDownLatch synced = new CountDownLatch(s);
            for (WireConnection c : subscribers) {
                c.subscribe(SERVICE, u -> {
                    if (u.isSentinel()) {
                        synced.countDown();
                        return;
                    }
                    Change ch = current.get();
                    if (u.online() && u.addr().equals(ch.addr())) {
                        if (ch.timed()) {
                            daemon.record(System.nanoTime() - ch.sent());
                        }
                        ch.left().countDown();
                    }
                });
            }
            if (!synced.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException((synced.getCount()) + " of " + s + " subscribers got no snapshot");
            }
            BenchRun.checkStreams(subscribers, "fan-out subscribers after their snapshot");
            long watches1 = run.store().watchesOn(dir);
            double maxPerChange = 0;
            // Warm changes (not timed) until QUIET_IN_A_ROW changes in a row in which neither JVM compiled
            // for more than BenchRun.QUIET_PERCENT of its time, as the throughput scenarios' warm-up rounds.
            int warmed = 0;
            int quietInARow = 0;
            while (warmed < WARM_CHANGES || (quietInARow < QUIET_IN_A_ROW && warmed < MAX_WARM_CHANGES)) {
                BenchRun.Jit before = run.jit();
                long t0 = System.nanoTime();
                deliver(subscribers, writer.get(0), current, new Change(Addrs.of(7, warmed), System.nanoTime(),
                        new CountDownLatch(s), false));
                BenchRun.Jit spent = run.jit().since(before);
                double elapsedMs = (System.nanoTime() - t0) / 1e6;
                boolean quiet = Math.max(spent.daemonMillis(), spent.benchMillis()) <= elapsedMs * BenchRun.QUIET_PERCENT / 100;
                quietInARow = quiet ? quietInARow + 1 : 0;
                warmed++;
            }
            boolean quiet = quietInARow >= QUIET_IN_A_ROW;
            BenchRun.Jit jit0 = run.jit();
            long gc0 = run.daemon().gcMillis();
            BenchRun.Cpu cpu0 = run.cpu();
            for (int k = 0; k < changes; k++) {
                Change ch = new Change(Addrs.of(7, warmed + k), System.nanoTime(), new CountDownLatch(s), true);
                deliver(subscribers, writer.get(0), current, ch);
                maxPerChange = Math.max(maxPerChange, (System.nanoTime() - ch.sent()) / 1e6);
            }
            BenchRun.Jit jit = run.jit().since(jit0);
            long gc = run.daemon().gcMillis() - gc0;
            BenchRun.Cpu cpu1 = run.cpu();

            AtomicReference<CompletableFuture<Long>> rawArrival = new AtomicReference<>();
            try (AutoCloseable watch = run.raw().watch(SERVICE, addr -> {
                CompletableFuture<Long> f = rawArrival.get();
                if (f != null) {
                    f.complete(System.nanoTime());
                }
            })) {
                for (int k = -RAW_WARM_CHANGES; k < changes; k++) {
                    CompletableFuture<Long> arrival = new CompletableFuture<>();
                    rawArrival.set(arrival);
                    long sent = System.nanoTime();
                    run.raw().register(SERVICE, Addrs.of(7, k + RAW_WARM_CHANGES), RegisterThroughput.ATTRS_JSON).get(60, TimeUnit.SECONDS);
                    long arrived = arrival.get(60, TimeUnit.SECONDS);
                    if (k >= 0) {
                        raw.record(arrived - sent);
                    }
                }
            }

            run.row(Row.compared(run.backend(), name(), "delivery p50, " + s + " subs", "ms", daemon.percentileMs(50),
                    raw.percentileMs(50), null, null));
            double p99 = daemon.percentileMs(99);
            run.row(Row.compared(run.backend(), name(), "delivery p99, " + s + " subs", "ms", p99, raw.percentileMs(99),
                    "≤ 250 ms", s < 10_000 ? null : p99 <= 250));
            run.row(Row.compared(run.backend(), name(), "delivery max, " + s + " subs", "ms", daemon.maxMs(), raw.maxMs(),
                    null, null));
            // Both sides share the cores: a change's delivery takes the daemon's and the load
            // generator's CPU for all S streams.
            run.cpuRows(this, "delivery", cpu0, cpu1, (double) changes * s);
            run.row(Row.alone(run.backend(), name(), "daemon JIT compiling while timed", "ms", jit.daemonMillis(), null, null));
            run.row(Row.alone(run.backend(), name(), "daemon collecting garbage while timed", "ms", gc, null, null));
            long watches = watches1 - watches0;
            run.row(Row.alone(run.backend(), name(), "store watches for the service", "watches", watches, "= 1", watches == 1));
            run.note(this, s + " subscriber connections on one service, " + changes + " changes timed after " + warmed
                    + " warm ones (at least " + WARM_CHANGES + ", then until neither JVM compiled for more than "
                    + (int) BenchRun.QUIET_PERCENT + " % of a change's time in " + QUIET_IN_A_ROW + " changes in a row, at most "
                    + MAX_WARM_CHANGES
                    + (quiet ? "" : ": still compiling when they ran out") + "); clock from the Register"
                    + " being sent to each subscriber's receipt (raw: " + run.raw().watchCalls() + ", from its create"
                    + " being sent, " + changes + " timed after " + RAW_WARM_CHANGES + " warm); slowest full delivery of one change " + String.format(java.util.Locale.ROOT, "%.1f", maxPerChange)
                    + " ms; watches: " + (run.backend().equals("etcd") ? "etcd_debugging_mvcc_watcher_total" : "ZooKeeper sessions watching " + dir + " (wchp)")
                    + " before and after the subscribers; the p99 target applies at 10,000 subscribers");
        } finally {
            BenchRun.close(subscribers);
            BenchRun.close(writer);
        }
    }
}
