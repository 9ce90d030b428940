package io.discoverd.bench.raw;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The baseline: the same store work as the daemon does for one operation, made directly with the
 * store's own Java client (Curator, jetcd) from the bench's JVM, with the same concurrency. Every
 * daemon figure is printed beside the figure of this client measured in the same run.
 *
 * <p>Thread-safe; operations are asynchronous and may be issued from any thread.
 */
public interface RawStore extends AutoCloseable {

    /** Which store calls one {@link #register} makes, for the report. */
    String registerCalls();

    /** Which store call one {@link #refresh} makes, for the report. */
    String refreshCalls();

    /** Which watch {@link #watch} opens, for the report. */
    String watchCalls();

    /**
     * Creates one instance of a service as a registration does, bound to the client's session or to a
     * new lease (TTL in seconds, etcd only).
     *
     * @return completes when the store acknowledged every call
     */
    CompletableFuture<Void> register(String service, String addr, String attrsJson);

    /**
     * Removes an instance made by {@link #register} with what it made: the instance node and its latch
     * node (ZooKeeper), the lease and so its key (etcd). The bench removes its warm-up's instances
     * before it times, on both sides, so that the timed run meets the store as the daemon's does.
     *
     * @return completes when the store acknowledged every call
     */
    CompletableFuture<Void> unregister(String service, String addr);

    /**
     * Deletes the service directories that {@link #unregister} and the daemon's Unregister left empty,
     * the raw client's and the daemon's (under {@code daemonRoot}), whose names start with
     * {@code namePrefix}. Why: ZooKeeper deletes an emptied container node itself within a minute, and
     * that write would land in a later scenario's count of store writes (heartbeats must make none).
     * etcd has no directories: the default deletes nothing.
     *
     * @param daemonRoot the daemon's root in the store, e.g. {@code /discoverd}
     * @return the number of directories deleted
     */
    default int deleteEmptyServices(String daemonRoot, String namePrefix) throws Exception {
        return 0;
    }

    /**
     * Refreshes an instance made by {@link #register} as a heartbeat would without the daemon: a data
     * write (ZooKeeper) or a keep-alive of its lease (etcd).
     */
    CompletableFuture<Void> refresh(String service, String addr);

    /**
     * Watches a service's instances and calls {@code created} with the address of each instance that
     * appears, on the client's own thread.
     *
     * @return the watch, started and synchronised with the store when this returns; close it to stop
     */
    AutoCloseable watch(String service, Consumer<String> created) throws Exception;

    /** Which store calls one {@link #readService} makes, for the report. */
    String readCalls();

    /**
     * Reads every instance of one of the daemon's services straight from the store, as a snapshot
     * does: the baseline of a subscription's snapshot.
     *
     * @param daemonServiceDir the daemon's directory or key prefix of the service, e.g.
     *                         {@code /discoverd/services/web}
     * @return completes with the number of instances read
     */
    CompletableFuture<Integer> readService(String daemonServiceDir);

    /** Closes the client: a ZooKeeper session ends with its nodes; etcd leases run out with their TTL (the bench discards the store after the run). */
    @Override
    void close() throws Exception;
}
