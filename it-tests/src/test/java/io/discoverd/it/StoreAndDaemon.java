package io.discoverd.it;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A test class's own store and one daemon on it, so that test classes can run concurrently without
 * sharing state. Start per backend from {@code @BeforeParameterizedClassInvocation} (or
 * {@code @BeforeAll} in a class of one backend), close from the matching after-method.
 *
 * @param store  the class's store
 * @param daemon the daemon on it
 */
public record StoreAndDaemon(TestStore store, DaemonProcess daemon) implements AutoCloseable {

    /**
     * Starts a store of the given backend and a daemon on it whose work and data directories are
     * under {@code dir/<backend>/daemon} (one directory per backend, so that the runs of a class on
     * each backend never share a data directory).
     *
     * @param extraYaml top-level daemon config lines (e.g. {@code registrationTtl: 2s}); may be empty
     */
    public static StoreAndDaemon start(Backend backend, Path dir, String extraYaml) throws Exception {
        TestStore store = backend.startStore();
        try {
            return new StoreAndDaemon(store, startDaemon(store, dir.resolve(backend.configName()).resolve("daemon"), extraYaml));
        } catch (Exception | Error e) {
            store.close();
            throw e;
        }
    }

    /** Starts one more daemon on the store, working in {@code workDir} (data in {@code workDir/data}). */
    public static DaemonProcess startDaemon(TestStore store, Path workDir, String extraYaml) throws Exception {
        return DaemonProcess.start(workDir, store.daemonConfig(workDir.resolve("data"), extraYaml));
    }

    /** The daemon's port on 127.0.0.1. */
    public int port() {
        return daemon.port();
    }

    /** The kind of store. */
    public Backend backend() {
        return store.backend();
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
