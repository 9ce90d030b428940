package io.discoverd.backend.zookeeper;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.BackgroundCallback;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Curator's background (asynchronous) calls as {@link CompletableFuture}s. Every future completes
 * with the {@link CuratorEvent}, also for ZooKeeper error codes (callers decide what {@code NONODE}
 * or {@code BADVERSION} mean); it fails only when Curator refuses the call outright.
 *
 * <p>Futures complete on a ZooKeeper/Curator thread: callers hop to their own executor
 * ({@code *Async(..., executor)}) before touching state. Thread-safe.
 */
final class AsyncZk {

    private static final Logger LOG = LoggerFactory.getLogger(AsyncZk.class);

    /**
     * Nodes read per read-only {@code multi} by {@link #readChildren}. 64 answers in ~30 ms what 5,000
     * single {@code getData} calls answer in ~400-800 ms (measured on loopback); with nodes of at most
     * 1 MiB (the server's default {@code jute.maxbuffer}) an answer stays within
     * {@link ResumingZookeeperFactory#MAX_ANSWER_BYTES}.
     */
    static final int READ_CHUNK = 64;

    /** After this many read-only multis in a row lost the connection, reads go one node at a time. */
    private static final int MULTI_LOSSES_BEFORE_OFF = 3;

    private final CuratorFramework client;
    private final AtomicInteger multiLossesInARow = new AtomicInteger();
    private volatile boolean multiReadOff;

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
     * One child's read by {@link #readChildren}: {@code code} is {@code OK} (with its stat and data),
     * {@code NONODE} (gone since it was listed) or the error the store gave for it.
     */
    record ChildRead(String child, Code code, Stat stat, byte[] data) {
    }

    /**
     * Reads the data of {@code children} of {@code dir}, {@link #READ_CHUNK} nodes per read-only
     * {@code multi} (ZooKeeper 3.6+). Returns one future per chunk, in the order of
     * {@code children}; each completes on the ZooKeeper event thread when its answer arrives, so a
     * dependent action registered before that runs in order with the watch events and other answers
     * of the connection. A chunk whose multi fails as a whole (connection loss, a server that does
     * not know read-only multis) is read one node at a time instead; after
     * {@value #MULTI_LOSSES_BEFORE_OFF} connection losses in a row (e.g. an answer larger than the
     * client accepts) or a refusal, every later read goes one node at a time, with one warning. A
     * future fails only when the call cannot be made at all. Thread-safe.
     */
    List<CompletableFuture<List<ChildRead>>> readChildren(String dir, List<String> children) {
        List<CompletableFuture<List<ChildRead>>> chunks = new ArrayList<>();
        for (int i = 0; i < children.size(); i += READ_CHUNK) {
            chunks.add(readChunk(dir, children.subList(i, Math.min(children.size(), i + READ_CHUNK))));
        }
        return chunks;
    }

    private CompletableFuture<List<ChildRead>> readChunk(String dir, List<String> names) {
        if (multiReadOff) {
            return readOneByOne(dir, names);
        }
        List<Op> ops = new ArrayList<>(names.size());
        for (String name : names) {
            ops.add(Op.getData(dir + "/" + name));
        }
        CompletableFuture<List<ChildRead>> chunk = new CompletableFuture<>();
        try {
            client.getZookeeperClient().getZooKeeper().multi(ops, (rc, path, ctx, results) -> {
                Code code = Code.get(rc);
                if (code == Code.OK && results != null && results.size() == names.size()) {
                    multiLossesInARow.set(0);
                    List<ChildRead> reads = new ArrayList<>(names.size());
                    for (int i = 0; i < names.size(); i++) {
                        reads.add(childRead(names.get(i), results.get(i)));
                    }
                    chunk.complete(reads);
                    return;
                }
                if (code == Code.UNIMPLEMENTED
                        || (code == Code.CONNECTIONLOSS && multiLossesInARow.incrementAndGet() >= MULTI_LOSSES_BEFORE_OFF)) {
                    if (!multiReadOff) {
                        multiReadOff = true;
                        LOG.warn("reading {} with read-only multis failed ({}); reading nodes one at a time from now on", dir, code);
                    }
                }
                readOneByOne(dir, names).whenComplete((r, e) -> {
                    if (e != null) {
                        chunk.completeExceptionally(e);
                    } else {
                        chunk.complete(r);
                    }
                });
            }, null);
        } catch (Exception e) {
            chunk.completeExceptionally(e);
        }
        return chunk;
    }

    private static ChildRead childRead(String name, OpResult result) {
        if (result instanceof OpResult.GetDataResult d) {
            return new ChildRead(name, Code.OK, d.getStat(), d.getData());
        }
        Code code = result instanceof OpResult.ErrorResult err ? Code.get(err.getErr()) : Code.SYSTEMERROR;
        return new ChildRead(name, code, null, null);
    }

    private CompletableFuture<List<ChildRead>> readOneByOne(String dir, List<String> names) {
        List<CompletableFuture<ChildRead>> reads = new ArrayList<>(names.size());
        for (String name : names) {
            reads.add(getData(dir + "/" + name).thenApply(ev -> new ChildRead(name, code(ev), ev.getStat(), ev.getData())));
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
                .thenApply(x -> reads.stream().map(CompletableFuture::join).toList());
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
