package io.discoverd.it;

import java.io.IOException;
import org.apache.curator.test.TestingServer;

/**
 * A real ZooKeeper server on a loopback ephemeral port (curator-test), shared by the daemons of
 * a test, and the config that points a daemon at it.
 */
public final class ZooKeeperStore implements TestStore {

    private final TestingServer server;

    public ZooKeeperStore() throws Exception {
        server = new TestingServer(true);
    }

    @Override
    public Backend backend() {
        return Backend.ZOOKEEPER;
    }

    /** The connect string, {@code 127.0.0.1:<port>}. */
    public String connectString() {
        return "127.0.0.1:" + server.getPort();
    }

    @Override
    public String address() {
        return connectString();
    }

    @Override
    public String backendSection() {
        return "zookeeper:\n"
                + "  connect: " + connectString() + "\n"
                + "  sessionTimeout: 15s\n";
    }

    /** Stops the server, keeping its port and data for {@link #restart()} (a store outage). */
    @Override
    public void stop() throws IOException {
        server.stop();
    }

    /** Starts the server again on the same port with the same data (sessions survive a short outage). */
    @Override
    public void restart() throws Exception {
        server.restart();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
