package io.discoverd.it.restart;

import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.OnlyOn;
import io.discoverd.it.RestartableDaemon;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restarting the daemon that runs the embedded ZooKeeper while Go clients keep heartbeating
 * through it (issue 3, first test item, "also with the embedded server"; PROTOCOL.md §8 #48): the
 * embedded server restores the sessions from its data directory and the daemon resumes its own.
 * A second daemon joins the embedded server by its client port, so its store is away while the
 * first daemon is; its view is checked once both are back. The scenario is {@link RestartScenario}.
 */
@OnlyOn(Backend.ZOOKEEPER)
class EmbeddedRestartTest {

    @TempDir
    static Path tmp;

    private static void restart(String label, boolean kill) throws Exception {
        Path work = tmp.resolve(label);
        int[] zkPort = new int[1];
        try (RestartableDaemon a = RestartableDaemon.start(work, port -> {
            try {
                zkPort[0] = RestartableDaemon.freePort();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return "backend: zookeeper\n"
                    + "dataDir: " + work.resolve("data") + "\n"
                    + RestartScenario.Timing.ZOOKEEPER.ttlYaml() + "\n"
                    + "zookeeper:\n"
                    + "  connect: embedded\n"
                    + "  sessionTimeout: 15s\n"
                    + "  embedded:\n"
                    + "    port: " + zkPort[0] + "\n";
        })) {
            Path joiner = tmp.resolve(label + "-joiner");
            try (DaemonProcess b = DaemonProcess.start(joiner, "backend: zookeeper\n"
                    + "dataDir: " + joiner.resolve("data") + "\n"
                    + RestartScenario.Timing.ZOOKEEPER.ttlYaml() + "\n"
                    + "zookeeper:\n"
                    + "  connect: 127.0.0.1:" + zkPort[0] + "\n"
                    + "  sessionTimeout: 15s\n")) {
                RestartScenario.run(a, b, true, kill, RestartScenario.Timing.ZOOKEEPER, "embedded-" + label);
            }
        }
    }

    @Test
    @DisplayName("issue 3 restart with the embedded ZooKeeper, #48: SIGTERM and start again on the same address and data directory while "
            + "clients heartbeat through it: no offline update, same instances and Created, same leader, also at a daemon joined to it")
    void restartAfterSigterm() throws Exception {
        restart("sigterm", false);
    }

    @Test
    @DisplayName("issue 3 restart with the embedded ZooKeeper, #48: SIGKILL (a crash) and start again on the same address and data "
            + "directory while clients heartbeat through it: no offline update, same instances and Created, same leader, also at a "
            + "daemon joined to it")
    void restartAfterSigkill() throws Exception {
        restart("sigkill", true);
    }
}
