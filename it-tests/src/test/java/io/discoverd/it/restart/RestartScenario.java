package io.discoverd.it.restart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.RestartableDaemon;
import io.discoverd.it.json.JsonRpcClient;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The restart scenario of issue 3 and PROTOCOL.md §8 #48: Go clients heartbeat three instances
 * through daemon A (a heartbeat every second, redialling every 200 ms while A is away); Go watchers
 * subscribe through A and through a second daemon B; A is stopped (SIGTERM or SIGKILL), stays away
 * for {@link Timing#downtime()}, and is started again on the same address with the same data
 * directory. Expected (README "Restarting a daemon"): no offline update at any subscriber, the
 * restarted daemon's new snapshot holds the same instances with the same {@code Created}, the same
 * leader, no heartbeat refused, and a new registration gets a larger {@code Created} than any before.
 * The clients go on heartbeating for {@link Timing#holdAfterRestart()} after the restart, long
 * enough for a registration that the restarted daemon failed to keep to go offline at B.
 */
final class RestartScenario {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int[] PORTS = {7001, 7002, 7003};

    private RestartScenario() {
    }

    /**
     * The scenario's times on one store.
     *
     * @param ttl              the daemons' {@code registrationTtl}
     * @param downtime         how long a stopped daemon stays away before it starts again
     * @param holdAfterRestart how long the clients go on heartbeating after the restart
     */
    record Timing(String ttl, Duration downtime, Duration holdAfterRestart) {

        /**
         * ZooKeeper: TTL 3 s; A stays away longer than the TTL (an in-memory deadline that kept
         * running while A was away would fire), then the clients heartbeat until the session
         * timeout (15 s, as in {@code ZooKeeperStore.daemonConfig}) has passed since the restart:
         * had A not resumed its session, the store would have ended it by then.
         */
        static final Timing ZOOKEEPER = new Timing("3s", Duration.ofSeconds(4), Duration.ofSeconds(17));

        /**
         * etcd: the lease is the TTL, so the heartbeats must reach the restarted daemon within one
         * TTL of the last one before the stop: TTL 10 s (the default, PROTOCOL.md §5.6) and 1 s
         * away, the daemon's start in between. Then heartbeats for more than a TTL: a restarted
         * daemon that did not keep the same lease alive would let it expire (offline at B), one
         * that made a new key would change {@code Created} (an online update at B).
         */
        static final Timing ETCD = new Timing("10s", Duration.ofSeconds(1), Duration.ofSeconds(12));

        static Timing of(Backend backend) {
            return switch (backend) {
                case ZOOKEEPER -> ZOOKEEPER;
                case ETCD -> ETCD;
            };
        }

        /** The config line for the daemons. */
        String ttlYaml() {
            return "registrationTtl: " + ttl;
        }
    }

    /**
     * Runs the scenario.
     *
     * @param a                 the daemon to restart (the instances' owner)
     * @param b                 the second daemon, on the same store
     * @param storeDownWithA    whether B's store is inside A (embedded): B's view is then only
     *                          checked after A is back
     * @param kill              SIGKILL rather than SIGTERM
     * @param timing            the times for the daemons' store
     * @param name              the service name, unique to this run
     */
    static void run(RestartableDaemon a, DaemonProcess b, boolean storeDownWithA, boolean kill, Timing timing, String name)
            throws Exception {
        try (GoProcess heartbeats = GoProcess.heartbeat(a.address(), name, PORTS);
                GoProcess watchB = GoProcess.watch(b.address(), name);
                GoProcess watchA = GoProcess.watch(a.address(), name)) {
            Views.awaitOkRounds(heartbeats, 0, 1, WAIT);
            Map<String, Long> before = Views.awaitView(watchB, v -> v.size() == PORTS.length, WAIT, "the three instances");
            assertEquals(before, Views.awaitView(watchA, v -> v.size() == PORTS.length, WAIT, "the three instances"),
                    "both daemons show the same instances with the same Created");
            assertEquals(PORTS.length, new HashSet<>(before.values()).size(), () -> "Created not unique: " + before);
            long oldest = Collections.min(before.values());
            assertEquals(before.get("127.0.0.1:" + PORTS[0]), oldest, () -> "first registered is not the oldest: " + before);
            String leaderBefore = Views.leader(a.port(), name);
            assertEquals("127.0.0.1:" + PORTS[0] + " created " + oldest, leaderBefore);
            assertEquals(leaderBefore, Views.leader(b.port(), name));

            int markB = watchB.mark();
            int markA = watchA.mark();
            int exit = a.stop(kill);
            int markHeartbeats = heartbeats.mark();
            String firstRun = a.current().output();
            // A stays away while the clients keep trying (a deliberate outage, not a wait for a condition)
            Thread.sleep(timing.downtime().toMillis());
            a.startAgain();
            long restartedAt = System.nanoTime();
            DaemonProcess restarted = a.current();
            Supplier<String> why = () -> "\n--- A before the restart (exit " + exit + ")\n" + tail(firstRun) + "\n--- A after\n"
                    + tail(restarted.output()) + "\n--- B\n" + tail(b.output()) + "\n--- heartbeats\n" + heartbeats.describe()
                    + "\n--- watcher on A\n" + watchA.describe() + "\n--- watcher on B\n" + watchB.describe();

            // the heartbeats reach A again; A's watcher has resubscribed and got a snapshot
            Views.awaitOkRounds(heartbeats, markHeartbeats, 1, WAIT);
            watchA.await(markA, e -> e.path("ev").asText().equals("sentinel"), WAIT, "sentinel of the resubscription");
            assertEquals(before, Views.view(watchA), () -> "A's snapshot after the restart differs" + why.get());

            // heartbeats for seven rounds after the restart, and on until a registration that A had
            // failed to keep would have gone (its instances then going offline at B)
            Views.awaitOkRounds(heartbeats, markHeartbeats, 7, WAIT);
            long until = restartedAt + timing.holdAfterRestart().toNanos();
            while (System.nanoTime() < until) {
                Views.awaitOkRounds(heartbeats, heartbeats.mark(), 1, WAIT);
            }
            assertEquals(List.of(), Views.eventsOf(heartbeats, "register-error", 0),
                    () -> "a heartbeat was refused" + why.get());
            assertEquals(List.of(), Views.liveUpdates(watchA, markA), () -> "A's subscriber got updates" + why.get());
            if (storeDownWithA) {
                // B's store was inside A: B only resynchronised (differences only) when it came back
                assertEquals(List.of(), Views.offlineUpdates(watchB, markB), () -> "B's subscriber saw an instance go offline" + why.get());
                assertEquals(before, Views.awaitView(watchB, before::equals, WAIT, "the instances of before the restart"), why);
            } else {
                assertEquals(List.of(), Views.liveUpdates(watchB, markB), () -> "B's subscriber got updates" + why.get());
                assertEquals(List.of(), Views.eventsOf(watchB, "disconnected", 0), () -> "B's subscription ended" + why.get());
                assertEquals(before, Views.view(watchB), why);
            }
            assertEquals(leaderBefore, awaitLeader(restarted.port(), name), () -> "A's leader changed" + why.get());
            assertEquals(leaderBefore, awaitLeader(b.port(), name), () -> "B's leader changed" + why.get());
            assertEquals(before, Views.snapshot(restarted.port(), name), why);
            assertEquals(before, Views.snapshot(b.port(), name), why);

            // #48: a registration after the restart gets a larger Created than any before
            try (JsonRpcClient c = JsonRpcClient.connect(restarted.port())) {
                String added = c.register(name, ":7999", null);
                Map<String, Long> after = Views.snapshot(b.port(), name);
                assertTrue(after.get(added) > Collections.max(before.values()), () -> "new Created not larger: " + after + why.get());
                c.unregister(name, ":7999");
            }
            assertTrue(restarted.isAlive() && b.isAlive(), why);
        }
    }

    /**
     * The second half of PROTOCOL.md §8 #48: every daemon restarted at once. Go clients heartbeat
     * two instances through A and one through B; watchers subscribe through each; A is stopped by
     * SIGTERM and B by SIGKILL, both stay away for {@link Timing#downtime()}, and both start again on
     * their addresses with their data directories. Expected: both watchers resubscribe and get the
     * same instances with the same {@code Created}, no live update at either (also once
     * {@link Timing#holdAfterRestart()} has passed since the restart), no heartbeat refused, the same
     * leader, and a new registration gets a larger {@code Created} than any before.
     */
    static void runAll(RestartableDaemon a, RestartableDaemon b, Timing timing, String name) throws Exception {
        try (GoProcess viaA = GoProcess.heartbeat(a.address(), name, PORTS[0], PORTS[1]);
                GoProcess viaB = GoProcess.heartbeat(b.address(), name, PORTS[2]);
                GoProcess watchA = GoProcess.watch(a.address(), name);
                GoProcess watchB = GoProcess.watch(b.address(), name)) {
            Views.awaitOkRounds(viaA, 0, 1, WAIT);
            Views.awaitOkRounds(viaB, 0, 1, WAIT);
            Map<String, Long> before = Views.awaitView(watchA, v -> v.size() == PORTS.length, WAIT, "the three instances");
            assertEquals(before, Views.awaitView(watchB, v -> v.size() == PORTS.length, WAIT, "the three instances"));
            String leaderBefore = Views.leader(a.port(), name);
            assertEquals(leaderBefore, Views.leader(b.port(), name));

            int markA = watchA.mark();
            int markB = watchB.mark();
            int exitA = a.stop(false);
            b.stop(true);
            int markViaA = viaA.mark();
            int markViaB = viaB.mark();
            String firstRunA = a.current().output();
            String firstRunB = b.current().output();
            // both stay away (a deliberate outage, not a wait for a condition)
            Thread.sleep(timing.downtime().toMillis());
            a.startAgain();
            b.startAgain();
            long restartedAt = System.nanoTime();
            Supplier<String> why = () -> "\n--- A before the restart (SIGTERM, exit " + exitA + ")\n" + tail(firstRunA)
                    + "\n--- B before the restart (SIGKILL)\n" + tail(firstRunB) + "\n--- A after\n" + tail(a.current().output())
                    + "\n--- B after\n" + tail(b.current().output()) + "\n--- heartbeats via A\n" + viaA.describe()
                    + "\n--- heartbeats via B\n" + viaB.describe() + "\n--- watcher on A\n" + watchA.describe()
                    + "\n--- watcher on B\n" + watchB.describe();

            for (GoProcess w : List.of(watchA, watchB)) {
                w.await(w == watchA ? markA : markB, e -> e.path("ev").asText().equals("sentinel"), WAIT, "sentinel of the resubscription");
                assertEquals(before, Views.view(w), () -> "snapshot after the restart differs" + why.get());
            }
            Views.awaitOkRounds(viaA, markViaA, 7, WAIT);
            Views.awaitOkRounds(viaB, markViaB, 7, WAIT);
            long until = restartedAt + timing.holdAfterRestart().toNanos();
            while (System.nanoTime() < until) {
                Views.awaitOkRounds(viaA, viaA.mark(), 1, WAIT);
            }
            assertEquals(List.of(), Views.eventsOf(viaA, "register-error", 0), () -> "a heartbeat was refused" + why.get());
            assertEquals(List.of(), Views.eventsOf(viaB, "register-error", 0), () -> "a heartbeat was refused" + why.get());
            assertEquals(List.of(), Views.liveUpdates(watchA, markA), () -> "A's subscriber got updates" + why.get());
            assertEquals(List.of(), Views.liveUpdates(watchB, markB), () -> "B's subscriber got updates" + why.get());
            assertEquals(leaderBefore, Views.leader(a.port(), name), why);
            assertEquals(leaderBefore, Views.leader(b.port(), name), why);
            assertEquals(before, Views.snapshot(a.port(), name), why);
            assertEquals(before, Views.snapshot(b.port(), name), why);
            try (JsonRpcClient c = JsonRpcClient.connect(b.port())) {
                String added = c.register(name, ":7999", null);
                Map<String, Long> after = Views.snapshot(a.port(), name);
                assertTrue(after.get(added) > Collections.max(before.values()), () -> "new Created not larger: " + after + why.get());
                c.unregister(name, ":7999");
            }
        }
    }

    /**
     * Agent.Leader, retried for a while: a daemon whose store was inside the restarted daemon
     * answers "store unavailable" until it has reconnected.
     */
    private static String awaitLeader(int port, String name) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                return Views.leader(port, name);
            } catch (AssertionError e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    static String tail(String text) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
    }
}
