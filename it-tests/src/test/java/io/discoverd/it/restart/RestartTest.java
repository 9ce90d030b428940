package io.discoverd.it.restart;

import io.discoverd.it.DaemonProcess;
import io.discoverd.it.ZooKeeperStore;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restarting a daemon while Go clients keep heartbeating through it (issue 3, first test item;
 * PROTOCOL.md §5.6, §6.4 and §8 #48), on a ZooKeeper server of this class's own: the restarted
 * daemon A resumes its session from its data directory; daemon B watches throughout. The scenario
 * is {@link RestartScenario}.
 */
class RestartTest {

    @TempDir
    static Path tmp;
    private static ZooKeeperStore store;
    private static DaemonProcess b;

    @BeforeAll
    static void start() throws Exception {
        store = new ZooKeeperStore();
        b = DaemonProcess.start(tmp.resolve("b"), store.daemonConfig(tmp.resolve("b-data"), "registrationTtl: " + RestartScenario.TTL));
    }

    @AfterAll
    static void stop() throws Exception {
        if (b != null) {
            b.close();
        }
        if (store != null) {
            store.close();
        }
    }

    private static void restart(String label, boolean kill) throws Exception {
        Path work = tmp.resolve(label);
        try (RestartableDaemon a = RestartableDaemon.start(work,
                port -> store.daemonConfig(work.resolve("data"), "registrationTtl: " + RestartScenario.TTL))) {
            RestartScenario.run(a, b, false, kill, "restart-" + label);
        }
    }

    @Test
    @DisplayName("issue 3 restart, #48: SIGTERM and start again on the same address and data directory while clients heartbeat through it: "
            + "no offline update on either daemon, same instances and Created in the new snapshot, same leader")
    void restartAfterSigterm() throws Exception {
        restart("sigterm", false);
    }

    @Test
    @DisplayName("issue 3 restart, #48: SIGKILL (a crash) and start again on the same address and data directory while clients heartbeat "
            + "through it: no offline update on either daemon, same instances and Created in the new snapshot, same leader")
    void restartAfterSigkill() throws Exception {
        restart("sigkill", true);
    }

    @Test
    @DisplayName("issue 3 restart, #48: all daemons restarted at once (A by SIGTERM, B by SIGKILL) while clients heartbeat through each: "
            + "no offline update, same instances and Created in both new snapshots, same leader, later registrations get a larger Created")
    void restartAllDaemons() throws Exception {
        Path workA = tmp.resolve("all-a");
        Path workB = tmp.resolve("all-b");
        try (RestartableDaemon a = RestartableDaemon.start(workA,
                port -> store.daemonConfig(workA.resolve("data"), "registrationTtl: " + RestartScenario.TTL));
                RestartableDaemon b2 = RestartableDaemon.start(workB,
                        port -> store.daemonConfig(workB.resolve("data"), "registrationTtl: " + RestartScenario.TTL))) {
            RestartScenario.runAll(a, b2, "restart-all");
        }
    }
}
