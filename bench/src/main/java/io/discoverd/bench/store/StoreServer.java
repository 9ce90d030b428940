package io.discoverd.bench.store;

import java.io.IOException;

/**
 * A store server run by the bench as its own process on loopback, shared by the daemon under test
 * and the raw baseline client, so neither the store's CPU nor its memory is counted as the daemon's.
 */
public interface StoreServer extends AutoCloseable {

    /** {@code zookeeper} or {@code etcd}: the daemon's {@code backend:} value. */
    String backend();

    /** The daemon's config section for this store (ends with a newline). */
    String daemonSection();

    /** Where clients reach it (a ZooKeeper connect string, an etcd endpoint URL). */
    String address();

    /**
     * A counter that every store write moves: ZooKeeper's last zxid, etcd's revision. Lease
     * keep-alives do not move etcd's revision; ZooKeeper session pings do not move the zxid.
     */
    long writeCounter() throws IOException;

    /**
     * How many store watches are set on one service's instance directory, by all clients: ZooKeeper
     * sessions watching the directory node, etcd watchers (all of them; take the difference).
     *
     * @param servicePath the directory, e.g. {@code /discoverd/services/fanout}
     */
    long watchesOn(String servicePath) throws IOException;

    /**
     * How long a warm-up pauses once, after its first round, in ms; 0: no pause ({@code BenchRun.warmUp}).
     * A store client that sends something of its own after a stretch without requests (ZooKeeper's
     * ping) needs that stretch during the warm-up, not in a rest before a timed run.
     */
    default long warmUpPauseMillis() {
        return 0;
    }

    /** Stops the process and deletes its data. */
    @Override
    void close() throws IOException;
}
