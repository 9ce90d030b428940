package io.discoverd.it.restart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.it.DaemonProcess;
import io.discoverd.it.json.JsonRpcClient;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The restart scenario of issue 3 and PROTOCOL.md §8 #48: Go clients heartbeat three instances
 * through daemon A (TTL 3 s, a heartbeat every second, redialling every 200 ms while A is away);
 * Go watchers subscribe through A and through a second daemon B; A is stopped (SIGTERM or SIGKILL),
 * stays away for longer than the TTL, and is started again on the same address with the same data
 * directory. Expected (README "Restarting a daemon"): no offline update at any subscriber, the
 * restarted daemon's new snapshot holds the same instances with the same {@code Created}, the same
 * leader, no heartbeat refused, and a new registration gets a larger {@code Created} than any before.
 * The clients go on heartbeating until the session timeout has passed since the restart: had A
 * not resumed its session, the store would have ended it by then and B would see offline updates.
 */
final class RestartScenario {

    /** The registrationTtl of the daemons. */
    static final String TTL = "3s";
    private static final Duration TTL_DURATION = Duration.ofSeconds(3);
    /** How long A stays stopped: longer than the TTL, so a deadline that kept running would fire. */
    private static final Duration DOWNTIME = TTL_DURATION.plusSeconds(1);
    /** zookeeper.sessionTimeout of the daemons (the default, as in ZooKeeperStore.daemonConfig). */
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int[] PORTS = {7001, 7002, 7003};

    private RestartScenario() {
    }

    /**
     * Runs the scenario.
     *
     * @param a                 the daemon to restart (the instances' owner)
     * @param b                 the second daemon, on the same store
     * @param storeDownWithA    whether B's store is inside A (embedded): B's view is then only
     *                          checked after A is back
     * @param kill              SIGKILL rather than SIGTERM
     * @param name              the service name, unique to this run
     */
    static void run(RestartableDaemon a, DaemonProcess b, boolean storeDownWithA, boolean kill, String name) throws Exception {
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
            // A stays away longer than one TTL while the clients keep trying (a deliberate outage,
            // not a wait for a condition)
            Thread.sleep(DOWNTIME.toMillis());
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

            // heartbeats for more than 2×TTL after the restart, and on until a session that A had
            // failed to resume would have expired (its instances then going offline at B)
            Views.awaitOkRounds(heartbeats, markHeartbeats, 7, WAIT);
            long until = restartedAt + SESSION_TIMEOUT.plusSeconds(2).toNanos();
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
     * SIGTERM and B by SIGKILL, both stay away for longer than the TTL, and both start again on their
     * addresses with their data directories. Expected: both watchers resubscribe and get the same
     * instances with the same {@code Created}, no live update at either (also once the session
     * timeout has passed since the restart), no heartbeat refused, the same leader, and a new
     * registration gets a larger {@code Created} than any before.
     */
    static void runAll(RestartableDaemon a, RestartableDaemon b, String name) throws Exception {
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
            // both stay away longer than one TTL (a deliberate outage, not a wait for a condition)
            Thread.sleep(DOWNTIME.toMillis());
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
            long until = restartedAt + SESSION_TIMEOUT.plusSeconds(2).toNanos();
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
