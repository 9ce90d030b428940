package io.discoverd.bench.scenario;

import io.discoverd.bench.load.Addrs;
import io.discoverd.bench.load.Latencies;
import io.discoverd.bench.report.Row;
import io.discoverd.bench.wire.WireConnection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Scenario 2: the time from a Register's reply to a subscriber (another connection) receiving the
 * instance's online update, one change at a time, against the time from the raw client's create
 * completing to its own watch reporting the new instance.
 */
public final class NotificationLatency implements Scenario {

    private static final String SERVICE = "notify";

    @Override
    public String name() {
        return "2 notify";
    }

    @Override
    public void run(BenchRun run) throws Exception {
        int n = run.profile().notifications();
        int warm = Math.max(5, n / 10);
        Latencies daemon = new Latencies();
        Latencies raw = new Latencies();
        Latencies daemonFromSend = new Latencies();
        Latencies rawFromSend = new Latencies();

        List<WireConnection> connections = run.connect(2);
        WireConnection writer = connections.get(0);
        Map<String, CompletableFuture<Long>> seen = new ConcurrentHashMap<>();
        CompletableFuture<Void> current = new CompletableFuture<>();
        connections.get(1).subscribe(SERVICE, u -> {
            if (u.isSentinel()) {
                current.complete(null);
            } else if (u.online()) {
                seen.computeIfAbsent(u.addr(), a -> new CompletableFuture<>()).complete(System.nanoTime());
            }
        });
        try {
            current.get(30, TimeUnit.SECONDS);
            for (int i = 0; i < warm + n; i++) {
                String addr = Addrs.of(3, i);
                long sent = System.nanoTime();
                writer.register(SERVICE, addr, RegisterThroughput.ATTRS).get(30, TimeUnit.SECONDS);
                long replied = System.nanoTime();
                long arrived = seen.computeIfAbsent(addr, a -> new CompletableFuture<>()).get(30, TimeUnit.SECONDS);
                if (i >= warm) {
                    daemon.record(arrived - replied);
                    daemonFromSend.record(arrived - sent);
                }
            }
        } finally {
            BenchRun.close(connections);
        }

        Map<String, CompletableFuture<Long>> rawSeen = new ConcurrentHashMap<>();
        try (AutoCloseable watch = run.raw().watch(SERVICE,
                addr -> rawSeen.computeIfAbsent(addr, a -> new CompletableFuture<>()).complete(System.nanoTime()))) {
            for (int i = 0; i < warm + n; i++) {
                String addr = Addrs.of(3, i);
                long sent = System.nanoTime();
                run.raw().register(SERVICE, addr, RegisterThroughput.ATTRS_JSON).get(30, TimeUnit.SECONDS);
                long replied = System.nanoTime();
                long arrived = rawSeen.computeIfAbsent(addr, a -> new CompletableFuture<>()).get(30, TimeUnit.SECONDS);
                if (i >= warm) {
                    raw.record(arrived - replied);
                    rawFromSend.record(arrived - sent);
                }
            }
        }

        double d50 = daemon.percentileMs(50);
        double r50 = raw.percentileMs(50);
        double d99 = daemon.percentileMs(99);
        double r99 = raw.percentileMs(99);
        run.row(Row.compared(run.backend(), name(), "latency p50", "ms", d50, r50, "≤ 1.5 × raw", d50 <= 1.5 * r50));
        run.row(Row.compared(run.backend(), name(), "latency p99", "ms", d99, r99, "≤ 2 × raw", d99 <= 2 * r99));
        // The daemon hands a change to its own subscribers before it replies, so the figures above are
        // mostly 0; these take the clock from the Register (the raw create) being sent instead.
        run.row(Row.compared(run.backend(), name(), "sent→update p50", "ms", daemonFromSend.percentileMs(50),
                rawFromSend.percentileMs(50), null, null));
        run.row(Row.compared(run.backend(), name(), "sent→update p99", "ms", daemonFromSend.percentileMs(99),
                rawFromSend.percentileMs(99), null, null));
        run.note(this, n + " changes one at a time (after " + warm + " not timed); clock from the Register reply (raw: the create's"
                + " completion) to the update at a subscriber on another connection (raw: " + run.raw().watchCalls()
                + " in the bench's JVM); an update that arrives before the reply counts as 0 (the daemon hands a change to its own"
                + " subscribers before it replies); the sent→update rows take the clock from the request being sent");
    }
}
