package io.discoverd.bench.scenario;

import io.discoverd.bench.Profile;
import io.discoverd.bench.daemon.DaemonUnderTest;
import io.discoverd.bench.raw.RawStore;
import io.discoverd.bench.report.Report;
import io.discoverd.bench.report.Row;
import io.discoverd.bench.store.StoreServer;
import io.discoverd.bench.wire.WireClient;
import io.discoverd.bench.wire.WireConnection;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What a scenario runs against for one backend: the store process, the daemon process on it, the
 * raw store client and the wire load generator, with the run's sizes and its report.
 *
 * @param registrationTtl the daemon's registrationTtl, in s (also the raw etcd leases' TTL)
 */
public record BenchRun(String backend, Profile profile, StoreServer store, DaemonUnderTest daemon, RawStore raw,
                       WireClient wire, Report report, PrintStream out, long registrationTtl) {

    /** Adds a row to the report (and prints it). */
    public void row(Row row) {
        report.add(row, out);
    }

    /** Adds a note, prefixed with the backend and scenario. */
    public void note(Scenario scenario, String text) {
        report.note("[" + backend + "] " + scenario.name() + ": " + text);
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

    /** Closes connections and waits until each is closed. */
    public static void close(List<WireConnection> connections) throws Exception {
        connections.forEach(WireConnection::close);
        for (WireConnection c : connections) {
            c.closed().get(30, TimeUnit.SECONDS);
        }
    }
}
