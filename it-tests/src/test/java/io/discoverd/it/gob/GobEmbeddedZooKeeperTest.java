package io.discoverd.it.gob;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.OnlyOn;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon on its embedded ZooKeeper (single-host use: {@code zookeeper.connect: embedded}),
 * judged by a gob replay of the whole recorded session (PROTOCOL.md §8 #10–#13, #27–#29, #31,
 * #32, #34, #38).
 */
@OnlyOn(Backend.ZOOKEEPER)
class GobEmbeddedZooKeeperTest {

    @TempDir
    Path tmp;

    @Test
    @DisplayName("a daemon on its embedded ZooKeeper replays gob-session.txt [#10 #11 #12 #13 #27 #28 #29 #31 #32 #34 #38]")
    void embeddedZooKeeperDaemonReplaysTheSession() throws Exception {
        String config = "backend: zookeeper\n"
                + "dataDir: " + tmp.resolve("data") + "\n"
                + "zookeeper:\n"
                + "  connect: embedded\n"
                + "  embedded:\n"
                + "    port: " + freeLoopbackPort() + "\n";
        try (DaemonProcess daemon = DaemonProcess.start(tmp.resolve("daemon"), config)) {
            GoClient.Result r = GoClient.run(Duration.ofSeconds(60), "replay", "-addr=" + daemon.address(),
                    "-file", GoClient.CAPTURES.resolve("gob-session.txt").toString());
            GoClient.assertPassed(r, "replay gob-session.txt", "[#10 #11 #12 #13 #27 #28 #29 #31 #32 #34 #38]",
                    daemon.output());
            assertTrue(daemon.isAlive(), daemon::output);
        }
    }

    /** A port free right now on 127.0.0.1 (the embedded server binds it moments later). */
    private static int freeLoopbackPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
