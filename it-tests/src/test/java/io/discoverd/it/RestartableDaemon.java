package io.discoverd.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * A daemon that a test stops (SIGTERM or SIGKILL) and starts again as an operator would: same
 * config file, same data directory, same {@code --bind 127.0.0.1:<port>}, so that clients redial
 * the address they know (README "Restarting a daemon").
 *
 * <p>Not thread-safe: drive it from the test thread.
 */
public final class RestartableDaemon implements AutoCloseable {

    private final Path workDir;
    private final String configYaml;
    private final String bind;
    private DaemonProcess current;

    private RestartableDaemon(Path workDir, String configYaml, String bind, DaemonProcess current) {
        this.workDir = workDir;
        this.configYaml = configYaml;
        this.bind = bind;
        this.current = current;
    }

    /**
     * Starts a daemon on a free loopback port of its own choosing (a few attempts, should another
     * process take the port between its choice and the bind).
     *
     * @param workDir the daemon's working directory
     * @param config  the whole {@code discoverd.yaml} for a given port; it may use the port, e.g.
     *                to derive other ports (called again on a retry)
     */
    public static RestartableDaemon start(Path workDir, IntFunction<String> config) throws Exception {
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int port = freePort();
            String yaml = config.apply(port);
            String bind = "127.0.0.1:" + port;
            try {
                return new RestartableDaemon(workDir, yaml, bind, DaemonProcess.start(workDir, yaml, Map.of(), bind));
            } catch (IllegalStateException e) {
                last = e;
            }
        }
        throw last;
    }

    /** Starts a daemon on the store, with its data directory under {@code workDir}, on a free loopback port. */
    public static RestartableDaemon start(TestStore store, Path workDir, String extraYaml) throws Exception {
        return start(workDir, port -> store.daemonConfig(workDir.resolve("data"), extraYaml));
    }

    /** A free loopback port, for a daemon that must come back on the same address. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The running daemon (the latest start). */
    public DaemonProcess current() {
        return current;
    }

    /** {@code 127.0.0.1:<port>}, the same across restarts. */
    public String address() {
        return bind;
    }

    /** The port, the same across restarts. */
    public int port() {
        return Integer.parseInt(bind.substring(bind.lastIndexOf(':') + 1));
    }

    /**
     * Stops the daemon: SIGKILL (a crash) or SIGTERM (an orderly stop).
     *
     * @return the exit code (137 after SIGKILL)
     */
    public int stop(boolean kill) throws InterruptedException {
        if (kill) {
            current.kill();
            return 137;
        }
        return current.stop();
    }

    /** Starts the daemon again with the same config, data directory and address; waits until it listens. */
    public void startAgain() throws Exception {
        if (current.isAlive()) {
            throw new IllegalStateException("still running");
        }
        current = DaemonProcess.start(workDir, configYaml, Map.of(), bind);
    }

    @Override
    public void close() throws InterruptedException {
        current.close();
    }
}
