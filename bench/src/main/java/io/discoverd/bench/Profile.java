package io.discoverd.bench;

/**
 * How big a run is. {@link #SMOKE} only proves that every scenario still runs (part of
 * {@code bin/test}); {@link #QUICK} gives rough figures in under two minutes; {@link #FULL} is the
 * run whose results are committed in {@code docs/benchmarks.md}.
 *
 * @param registrations        scenario 1: instances registered, each new
 * @param concurrency          scenarios 1 and 3: operations in flight (daemon: over this many connections)
 * @param notifications        scenario 2: changes timed one at a time (a p99 of 1,000 is set by their
 *                             ~10 slowest, and moved between 0.2 and 1.4 ms from run to run on etcd;
 *                             the full run times 3,000)
 * @param heartbeatInstances   scenario 3: instances heartbeated
 * @param heartbeatMillis      scenario 3: how long heartbeats are sent, in ms
 * @param subscribers          scenario 4: subscriber connections on one service
 * @param fanOutChanges        scenario 4: changes timed (each reaches every subscriber; one change's
 *                             slowest deliveries move by ±25 % from change to change, so the p99 is
 *                             taken over many)
 * @param scaleSteps           scenario 5: registered-instance counts at which latencies are taken
 * @param scaleServices        scenario 5: services the instances are spread over
 * @param bigService           scenario 5: instances of the one big service
 * @param scaleSamples         scenario 5: registers and snapshots timed at each step
 * @param idleConnections      scenario 6: idle connections held
 * @param daemonHeap           the daemon JVM's heap, e.g. {@code 2g} (the ZooKeeper server's too)
 * @param warmupMillis         one warm-up round: how long each side (daemon, raw) is driven in it
 *                             before a throughput is timed, in ms
 * @param coldSnapshots        scenario 5: big services whose first (cold) snapshot is timed; with
 *                             more than one, one more goes first untimed ({@code Scale})
 * @param warmupRounds         at most this many warm-up rounds: they end once both JVMs' JIT
 *                             compilers are quiet ({@code BenchRun.warmUp})
 */
public record Profile(String name, int registrations, int concurrency, int notifications, int heartbeatInstances,
                      long heartbeatMillis, int subscribers, int fanOutChanges, int[] scaleSteps, int scaleServices,
                      int bigService, int scaleSamples, int idleConnections, String daemonHeap, long warmupMillis,
                      int warmupRounds, int coldSnapshots) {

    /** A few seconds per backend: every scenario runs, with tiny sizes. */
    public static final Profile SMOKE = new Profile("smoke", 100, 4, 5, 50, 500, 10, 2,
            new int[] {50, 100}, 10, 100, 5, 20, "512m", 200, 1, 1);

    /** Under two minutes for both backends on two cores. */
    public static final Profile QUICK = new Profile("quick", 1_500, 32, 100, 500, 1_500, 1_000, 10,
            new int[] {500, 2_000}, 1_000, 5_000, 50, 1_000, "1g", 1_000, 1, 1);

    /** The sizes: 10,000 subscribers, 100,000 registrations, 10,000 idle connections. */
    public static final Profile FULL = new Profile("full", 20_000, 64, 3_000, 10_000, 15_000, 10_000, 20,
            new int[] {1_000, 10_000, 100_000}, 1_000, 5_000, 500, 10_000, "3g", 5_000, 8, 8);
}
