package io.discoverd.it.restart;

import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.EachBackend;
import io.discoverd.it.RestartableDaemon;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.TestStore;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

/**
 * Restarting a daemon while Go clients keep heartbeating through it (issue 3, first test item;
 * PROTOCOL.md §5.6, §6.4 and §8 #48), on a store of this class's own; daemon B watches throughout.
 * On ZooKeeper the restarted daemon A resumes its session from its data directory; on etcd the
 * registrations are leases that no daemon owns, and the heartbeats reaching the restarted daemon
 * keep the same leases alive. The scenario, and its times on each store, is {@link RestartScenario}.
 */
@EachBackend
class RestartTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    @TempDir
    static Path tmp;
    private static TestStore store;
    private static RestartScenario.Timing timing;
    private static Path dir;
    private static DaemonProcess b;

    @BeforeParameterizedClassInvocation
    static void start(Backend backend) throws Exception {
        store = backend.startStore();
        timing = RestartScenario.Timing.of(backend);
        dir = tmp.resolve(backend.configName());
        b = StoreAndDaemon.startDaemon(store, dir.resolve("b"), timing.ttlYaml());
    }

    @AfterParameterizedClassInvocation
    static void stop() throws Exception {
        if (b != null) {
            b.close();
        }
        if (store != null) {
            store.close();
        }
    }

    private static RestartableDaemon startRestartable(String label) throws Exception {
        return RestartableDaemon.start(store, dir.resolve(label), timing.ttlYaml());
    }

    private static void restart(String label, boolean kill) throws Exception {
        try (RestartableDaemon a = startRestartable(label)) {
            RestartScenario.run(a, b, false, kill, timing, "restart-" + label);
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
        try (RestartableDaemon a = startRestartable("all-a"); RestartableDaemon b2 = startRestartable("all-b")) {
            RestartScenario.runAll(a, b2, timing, "restart-all");
        }
    }
}
