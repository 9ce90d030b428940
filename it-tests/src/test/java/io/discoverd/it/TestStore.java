package io.discoverd.it;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A real store server of one {@link Backend} on loopback ports of its own, shared by the daemons of
 * a test, and the config file that points a daemon at it. Made by {@link Backend#startStore()};
 * {@link #close()} stops it for good and discards its data.
 */
public interface TestStore extends AutoCloseable {

    /** The kind of store. */
    Backend backend();

    /**
     * A complete {@code discoverd.yaml} for a daemon on this store: {@code backend:}, {@code dataDir},
     * the caller's lines, then the store's section.
     *
     * @param dataDir   the daemon's own data directory
     * @param extraYaml more top-level YAML lines (e.g. {@code registrationTtl: 2s}), may be empty
     */
    default String daemonConfig(Path dataDir, String extraYaml) {
        return "backend: " + backend().configName() + "\n"
                + "dataDir: " + dataDir + "\n"
                + lines(extraYaml)
                + backendSection();
    }

    /** The store's own section of {@link #daemonConfig}, e.g. {@code etcd:} with its endpoints, ending with a newline. */
    String backendSection();

    /** Stops the server, keeping its address and data for {@link #restart()} (a store outage). */
    void stop() throws Exception;

    /** Starts the server again on the same address with the same data; returns once it serves. */
    void restart() throws Exception;

    /** Where the daemons reach it, as their error messages name it (a ZooKeeper connect string, an etcd endpoint). */
    String address();

    /** The kind and address, for assertion messages: {@code etcd http://127.0.0.1:40123}. */
    default String describe() {
        return backend() + " " + address();
    }

    /** Stops the server for good and discards its data. */
    @Override
    void close() throws IOException;

    /** Joins the caller's YAML lines to a config, ending them with a newline if they do not. */
    static String lines(String extraYaml) {
        return extraYaml + (extraYaml.isEmpty() || extraYaml.endsWith("\n") ? "" : "\n");
    }
}
