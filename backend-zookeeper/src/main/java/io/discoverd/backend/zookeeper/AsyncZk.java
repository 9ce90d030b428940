package io.discoverd.backend.zookeeper;

import java.util.concurrent.CompletableFuture;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.BackgroundCallback;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;

/**
 * Curator's background (asynchronous) calls as {@link CompletableFuture}s. Every future completes
 * with the {@link CuratorEvent}, also for ZooKeeper error codes (callers decide what {@code NONODE}
 * or {@code BADVERSION} mean); it fails only when Curator refuses the call outright.
 *
 * <p>Futures complete on a ZooKeeper/Curator thread: callers hop to their own executor
 * ({@code *Async(..., executor)}) before touching state. Thread-safe.
 */
final class AsyncZk {

    private final CuratorFramework client;

    AsyncZk(CuratorFramework client) {
        this.client = client;
    }

    /** The result code of an event. */
    static KeeperException.Code code(CuratorEvent e) {
        return KeeperException.Code.get(e.getResultCode());
    }

    @FunctionalInterface
    private interface Call {
        void start(BackgroundCallback cb) throws Exception;
    }

    private static CompletableFuture<CuratorEvent> run(Call call) {
        CompletableFuture<CuratorEvent> f = new CompletableFuture<>();
        try {
            call.start((c, event) -> f.complete(event));
        } catch (Exception e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    CompletableFuture<CuratorEvent> sync(String path) {
        return run(cb -> client.sync().inBackground(cb).forPath(path));
    }

    /** Children of {@code path}; the event's stat is the parent's. */
    CompletableFuture<CuratorEvent> getChildren(String path) {
        return run(cb -> client.getChildren().inBackground(cb).forPath(path));
    }

    CompletableFuture<CuratorEvent> getData(String path) {
        return run(cb -> client.getData().inBackground(cb).forPath(path));
    }

    CompletableFuture<CuratorEvent> exists(String path) {
        return run(cb -> client.checkExists().inBackground(cb).forPath(path));
    }

    /**
     * Creates an ephemeral node; its parent must exist (a missing one answers {@code NONODE}). The
     * event carries the stat.
     *
     * <p>Why not Curator's {@code creatingParentContainersIfNeeded()}: in background mode Curator
     * creates the missing parents with synchronous calls on its single background thread, so every
     * first registration into a new service waits behind every other one (and behind any retried
     * operation). Parents are ensured asynchronously instead ({@link #createContainer}).
     */
    CompletableFuture<CuratorEvent> createEphemeral(String path, byte[] data) {
        return run(cb -> client.create().withMode(CreateMode.EPHEMERAL).inBackground(cb).forPath(path, data));
    }

    /**
     * Creates a latch participant as Curator's {@code LeaderLatch} does: protected (a retry after a
     * connection loss finds the node instead of creating a second one), ephemeral, sequential. Its
     * parent must exist ({@code NONODE} otherwise; see {@link #createEphemeral} for why). The event's
     * name is the node's path; its stat may be {@code null} when the create was recovered after a
     * connection loss.
     */
    CompletableFuture<CuratorEvent> createParticipant(String path, byte[] data) {
        return run(cb -> client.create().withProtection()
                .withMode(CreateMode.EPHEMERAL_SEQUENTIAL).inBackground(cb).forPath(path, data));
    }

    /**
     * Creates an empty container node (the server deletes it once it has had children and has none
     * left); {@code NODEEXISTS} and {@code NONODE} (its parent is missing) are the caller's to handle.
     */
    CompletableFuture<CuratorEvent> createContainer(String path) {
        return run(cb -> client.create().withMode(CreateMode.CONTAINER).inBackground(cb).forPath(path, new byte[0]));
    }

    CompletableFuture<CuratorEvent> setData(String path, byte[] data, int version) {
        return run(cb -> client.setData().withVersion(version).inBackground(cb).forPath(path, data));
    }

    CompletableFuture<CuratorEvent> delete(String path, int version) {
        return run(cb -> client.delete().withVersion(version).inBackground(cb).forPath(path));
    }

    /**
     * Adds {@code watcher} as a persistent recursive watch on {@code path} (ZooKeeper 3.6+): it stays
     * until removed, also across reconnects of the same session (not across a session expiry), and
     * reports every create, data change and delete at or under {@code path}; the path need not exist.
     * A request sent after this one is processed after the watch is in place.
     */
    CompletableFuture<CuratorEvent> addPersistentRecursiveWatch(String path, Watcher watcher) {
        return run(cb -> client.watchers().add().withMode(AddWatchMode.PERSISTENT_RECURSIVE)
                .inBackground(cb).usingWatcher(watcher).forPath(path));
    }

    /**
     * Removes {@code watcher}, added by {@link #addPersistentRecursiveWatch}, from {@code path} in this
     * client; other watchers of the same path (another recipe's) stay. A watcher already gone is no
     * error. Trap: ZooKeeper 3.9's server only checks a single watcher's removal
     * ({@code checkWatches}); it keeps sending the path's events to this session until it reconnects,
     * and the client drops them (removing all watches of the path would also remove the cache's).
     */
    CompletableFuture<CuratorEvent> removePersistentRecursiveWatch(String path, Watcher watcher) {
        return run(cb -> client.watchers().remove(watcher).ofType(Watcher.WatcherType.PersistentRecursive)
                .quietly().inBackground(cb).forPath(path));
    }
}
