package io.discoverd.it;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A test class's own ZooKeeper server and one daemon on it, so that test classes can run
 * concurrently without sharing state. Start from {@code @BeforeAll}, close from {@code @AfterAll}.
 *
 * @param store  the class's ZooKeeper server
 * @param daemon the daemon on it
 */
public record StoreAndDaemon(ZooKeeperStore store, DaemonProcess daemon) implements AutoCloseable {

    /**
     * Starts a store and a daemon whose work and data directories are under {@code dir}.
     *
     * @param extraYaml top-level daemon config lines (e.g. {@code registrationTtl: 2s}); may be empty
     */
    public static StoreAndDaemon start(Path dir, String extraYaml) throws Exception {
        ZooKeeperStore store = new ZooKeeperStore();
        try {
            return new StoreAndDaemon(store, startDaemon(store, dir.resolve("daemon"), extraYaml));
        } catch (Exception | Error e) {
            store.close();
            throw e;
        }
    }

    /** Starts one more daemon on the store, working in {@code workDir}. */
    public static DaemonProcess startDaemon(ZooKeeperStore store, Path workDir, String extraYaml) throws Exception {
        return DaemonProcess.start(workDir, store.daemonConfig(workDir.resolve("data"), extraYaml));
    }

    /** The daemon's port on 127.0.0.1. */
    public int port() {
        return daemon.port();
    }

    /** Stops the daemon (SIGTERM, waiting for its exit) and then the store. */
    @Override
    public void close() throws IOException {
        try {
            daemon.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            store.close();
        }
    }
}
