package io.discoverd.it;

import java.io.IOException;
import org.apache.curator.test.TestingServer;

/**
 * A real ZooKeeper server on a loopback ephemeral port (curator-test), shared by the daemons of
 * a test, and the config that points a daemon at it.
 */
public final class ZooKeeperStore implements AutoCloseable {

    private final TestingServer server;

    public ZooKeeperStore() throws Exception {
        server = new TestingServer(true);
    }

    /** The connect string, {@code 127.0.0.1:<port>}. */
    public String connectString() {
        return "127.0.0.1:" + server.getPort();
    }

    /**
     * A complete {@code discoverd.yaml} for a daemon on this store.
     *
     * @param dataDir the daemon's own data directory
     * @param extra   more top-level YAML lines (e.g. {@code registrationTtl: 2s}), may be empty
     */
    public String daemonConfig(java.nio.file.Path dataDir, String extra) {
        return "backend: zookeeper\n"
                + "dataDir: " + dataDir + "\n"
                + extra + (extra.isEmpty() || extra.endsWith("\n") ? "" : "\n")
                + "zookeeper:\n"
                + "  connect: " + connectString() + "\n"
                + "  sessionTimeout: 15s\n";
    }

    /** Stops the server, keeping its port and data for {@link #restart()} (a store outage). */
    public void stop() throws IOException {
        server.stop();
    }

    /** Starts the server again on the same port with the same data (sessions survive a short outage). */
    public void restart() throws Exception {
        server.restart();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
