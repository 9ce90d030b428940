package io.discoverd.bench.scenario;

import io.discoverd.bench.load.Addrs;
import io.discoverd.bench.load.ClosedLoop;
import io.discoverd.bench.load.Latencies;
import io.discoverd.bench.report.Row;
import io.discoverd.bench.wire.WireConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Scenario 5: register and subscribe-snapshot latency as the daemon holds more instances (1k, 10k,
 * 100k spread over 1,000 services), and the snapshot of one service of 5,000 instances. Latencies are
 * taken one call at a time; the raw columns are the raw client's register and its direct read of the
 * same service from the store, at the same moment.
 */
public final class Scale implements Scenario {

    @Override
    public String name() {
        return "5 scale";
    }

    @Override
    public void run(BenchRun run) throws Exception {
        int c = run.profile().concurrency();
        int services = run.profile().scaleServices();
        int samples = run.profile().scaleSamples();
        List<WireConnection> connections = run.connect(c);
        WireConnection probe = connections.get(0);
        try {
            int registered = 0;
            Double firstP50 = null;
            int firstStep = 0;
            int sampleBase = 0;
            for (int step : run.profile().scaleSteps()) {
                int from = registered;
                long t0 = System.nanoTime();
                ClosedLoop.run(c, step - from, i -> connections.get(i % c)
                        .register(service(from + i, services), Addrs.of(5, from + i), RegisterThroughput.ATTRS), null, 1_800_000);
                registered = step;
                double fillSeconds = (System.nanoTime() - t0) / 1e9;
                run.note(this, String.format(Locale.ROOT, "filled to %,d instances in %.1f s, then %s", step,
                        fillSeconds, run.settle()));

                Latencies daemonRegister = new Latencies();
                Latencies rawRegister = new Latencies();
                for (int k = 0; k < samples; k++) {
                    int n = sampleBase + k;
                    long s0 = System.nanoTime();
                    probe.register(service(n, services), Addrs.of(6, n), RegisterThroughput.ATTRS).get(60, TimeUnit.SECONDS);
                    daemonRegister.record(System.nanoTime() - s0);
                    long r0 = System.nanoTime();
                    run.raw().register("scale-" + (n % services), Addrs.of(6, n), RegisterThroughput.ATTRS_JSON).get(60, TimeUnit.SECONDS);
                    rawRegister.record(System.nanoTime() - r0);
                }
                sampleBase += samples;
                double p50 = daemonRegister.percentileMs(50);
                String at = String.format(Locale.ROOT, " at %,d", step);
                run.row(Row.compared(run.backend(), name(), "register p50" + at, "ms", p50, rawRegister.percentileMs(50), null, null));
                run.row(Row.compared(run.backend(), name(), "register p99" + at, "ms", daemonRegister.percentileMs(99),
                        rawRegister.percentileMs(99), null, null));
                if (firstP50 == null) {
                    firstP50 = p50;
                    firstStep = step;
                } else {
                    double ratio = p50 / firstP50;
                    run.row(Row.alone(run.backend(), name(), String.format(Locale.ROOT, "register p50 %,d / %,d", step, firstStep),
                            "×", ratio, "≤ 1.5", step >= 100_000 ? ratio <= 1.5 : null));
                }
                snapshots(run, probe, services, samples, step / services, at);
            }

            // Big services: the first subscriber of each finds no view of it, and the daemon reads it from
            // the store (cold); later ones find the view open or lingering (30 s after its last subscriber).
            // With more than one timed, one more big service goes first, untimed on both sides: the first
            // load of a big service in a JVM was its slowest (tenth pass: ~54 ms twice, the others 26-48).
            int big = run.profile().bigService();
            int colds = run.profile().coldSnapshots();
            int untimed = colds > 1 ? 1 : 0;
            Latencies cold = new Latencies();
            Latencies coldRaw = new Latencies();
            List<BenchRun.Rest> bigRest = new ArrayList<>();
            List<String> coldSamples = new ArrayList<>();
            for (int k = colds - 1 + untimed; k >= 0; k--) {
                String svc = k == 0 ? "big" : "big-" + k;
                ClosedLoop.run(c, big, i -> connections.get(i % c).register(svc, Addrs.of(8, i), RegisterThroughput.ATTRS),
                        null, 1_800_000);
                bigRest.add(run.settle());
                // Which side reads the service first alternates (the store has just written it).
                boolean rawFirst = k % 2 == 1;
                long daemonNanos;
                long rawNanos;
                if (rawFirst) {
                    rawNanos = rawRead(run, svc);
                    daemonNanos = snapshot(probe, svc, big);
                } else {
                    daemonNanos = snapshot(probe, svc, big);
                    rawNanos = rawRead(run, svc);
                }
                String sample = String.format(Locale.ROOT, "%.1f / %.1f%s", daemonNanos / 1e6, rawNanos / 1e6,
                        rawFirst ? " (raw first)" : "");
                if (k >= colds) {
                    coldSamples.add("untimed " + sample);
                    continue;
                }
                cold.record(daemonNanos);
                coldRaw.record(rawNanos);
                coldSamples.add(sample);
            }
            Latencies daemon = new Latencies();
            Latencies raw = new Latencies();
            int bigSamples = Math.min(samples, 50);
            for (int k = 0; k < bigSamples; k++) {
                daemon.record(snapshot(probe, "big", big));
                long rs = System.nanoTime();
                int read = run.raw().readService("/discoverd/services/big").get(60, TimeUnit.SECONDS);
                raw.record(System.nanoTime() - rs);
                if (read < big) {
                    throw new IllegalStateException("raw read saw " + read + " of " + big + " instances");
                }
            }
            String label = String.format(Locale.ROOT, "snapshot of %,d, ", big);
            double coldP50 = cold.percentileMs(50);
            double p50 = daemon.percentileMs(50);
            run.row(Row.compared(run.backend(), name(), label + "cold" + (colds > 1 ? " p50" : ""), "ms", coldP50,
                    coldRaw.percentileMs(50), "≤ 50 ms", big >= 5_000 ? coldP50 <= 50 : null));
            run.row(Row.compared(run.backend(), name(), label + "warm p50", "ms", p50, raw.percentileMs(50), "≤ 50 ms",
                    big >= 5_000 ? p50 <= 50 : null));
            run.row(Row.compared(run.backend(), name(), label + "warm p99", "ms", daemon.percentileMs(99), raw.percentileMs(99), null, null));
            run.note(this, "instances spread over " + services + " services (\"scale-N\"), filled with " + c
                    + " in flight; at each step " + samples + " Registers of new instances and " + samples
                    + " Subscribes (each to the sentinel, then CloseStream) one at a time, served by views that may be open or"
                    + " lingering (30 s after their last subscriber); raw: " + run.raw().registerCalls()
                    + ", and for a snapshot " + run.raw().readCalls() + "; big services of " + big + " instances: the first snapshot of"
                    + " each of " + colds + (untimed > 0 ? ", after " + untimed + " untimed" : "")
                    + " (cold: no view yet, the daemon reads the store; which side reads first alternates;"
                    + " each, daemon / raw, in ms: " + String.join(", ", coldSamples) + "), then " + bigSamples
                    + " more of one (warm: its view lingers between them); every sample set waits for the machine to be at rest (under "
                    + BenchRun.REST_PERCENT + " % busy for " + BenchRun.REST_WINDOW_MS + " ms, at most " + BenchRun.REST_MAX_MS / 1000
                    + " s; after the big services' fills: " + bigRest + ");"
                    + " the targets apply at 100,000 and 5,000 instances");
        } finally {
            BenchRun.close(connections);
        }
    }

    private static void snapshots(BenchRun run, WireConnection probe, int services, int samples, int perService, String at)
            throws Exception {
        Latencies daemon = new Latencies();
        Latencies raw = new Latencies();
        for (int k = 0; k < samples; k++) {
            String svc = service(k * 7919, services);
            daemon.record(snapshot(probe, svc, perService));
            long r0 = System.nanoTime();
            run.raw().readService("/discoverd/services/" + svc).get(60, TimeUnit.SECONDS);
            raw.record(System.nanoTime() - r0);
        }
        run.row(Row.compared(run.backend(), "5 scale", "snapshot p50" + at, "ms", daemon.percentileMs(50), raw.percentileMs(50), null, null));
        run.row(Row.compared(run.backend(), "5 scale", "snapshot p99" + at, "ms", daemon.percentileMs(99), raw.percentileMs(99), null, null));
    }

    /** The raw client's read of a service of the daemon's layout; returns ns. */
    private static long rawRead(BenchRun run, String service) throws Exception {
        long r0 = System.nanoTime();
        run.raw().readService("/discoverd/services/" + service).get(60, TimeUnit.SECONDS);
        return System.nanoTime() - r0;
    }

    /** Subscribes, waits for the sentinel (at least {@code expected} instances before it), closes the stream; returns ns. */
    static long snapshot(WireConnection c, String service, int expected) throws Exception {
        CompletableFuture<Long> sentinel = new CompletableFuture<>();
        int[] instances = {0};
        long t0 = System.nanoTime();
        long seq = c.subscribe(service, u -> {
            if (u.isSentinel()) {
                sentinel.complete(System.nanoTime());
            } else {
                instances[0]++;
            }
        });
        long elapsed = sentinel.get(120, TimeUnit.SECONDS) - t0;
        c.closeStream(seq);
        if (instances[0] < expected) {
            throw new IllegalStateException("snapshot of " + service + " had " + instances[0] + " instances, want " + expected);
        }
        return elapsed;
    }

    private static String service(int i, int services) {
        return "scale-" + (i % services);
    }
}
