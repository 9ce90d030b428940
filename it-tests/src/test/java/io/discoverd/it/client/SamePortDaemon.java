package io.discoverd.it.client;

import io.discoverd.it.DaemonProcess;
import io.discoverd.it.TestStore;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;

/**
 * A daemon that a test kills and starts again on the same {@code 127.0.0.1:<port>}, with the same
 * config and data directory, so that a client redials the address it knows (PROTOCOL.md §9.6).
 * Not thread-safe: drive it from the test thread.
 */
final class SamePortDaemon implements AutoCloseable {

    private final Path workDir;
    private final String yaml;
    private final String bind;
    private DaemonProcess current;

    private SamePortDaemon(Path workDir, String yaml, String bind, DaemonProcess current) {
        this.workDir = workDir;
        this.yaml = yaml;
        this.bind = bind;
        this.current = current;
    }

    /** Starts a daemon on the store, on a free loopback port (a few attempts, should the port be taken meanwhile). */
    static SamePortDaemon start(TestStore store, Path workDir, String extraYaml) throws Exception {
        String yaml = store.daemonConfig(workDir.resolve("data"), extraYaml);
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            String bind = "127.0.0.1:" + freePort();
            try {
                return new SamePortDaemon(workDir, yaml, bind, DaemonProcess.start(workDir, yaml, Map.of(), bind));
            } catch (IllegalStateException e) {
                last = e;
            }
        }
        throw last;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** {@code 127.0.0.1:<port>}, the same across restarts. */
    String address() {
        return bind;
    }

    /** The running process (the latest start). */
    DaemonProcess current() {
        return current;
    }

    /** SIGKILL: a crash. */
    void kill() throws InterruptedException {
        current.kill();
    }

    /** Starts it again with the same config, data directory and address; returns once it listens. */
    void startAgain() throws Exception {
        current = DaemonProcess.start(workDir, yaml, Map.of(), bind);
    }

    @Override
    public void close() throws InterruptedException {
        current.close();
    }
}
