package io.discoverd.backend.zookeeper;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.BackgroundCallback;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.utils.ZKPaths;
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
 * ({@code *Async(..., executor)}) before touching state (a call that touches none, such as the
 * next create of a registration, may be made from there at once). Thread-safe.
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

    /** After this many counted connection losses of multis with no multi answered between them, multis are given up. */
    private static final int MULTI_LOSSES_BEFORE_OFF = 3;
    /** Connection losses of multis closer together than this count once (one blip fails every multi in flight). */
    private static final long LOSS_SPACING_MS = 500;

    private final CuratorFramework client;
    // Guarded by this.
    private int lossesInARow;
    private long lastCountedLossNanos;
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
     * Reads the data of {@code children} of {@code dir} (a path in the client's namespace),
     * {@link #READ_CHUNK} nodes per read-only {@code multi} (ZooKeeper 3.6+), all in flight.
     * {@code onAnswer} gets each answer's reads as it arrives, on the ZooKeeper event thread, in the
     * order the server answered, interleaved with the connection's watch events and other answers:
     * a caller that hands them on from there (as a view does to its executor) keeps the store's
     * order. An answer that fails as a whole (a connection loss, a server without read-only multis)
     * is read again one node at a time, each read handed to {@code onAnswer} as it arrives.
     *
     * <p>Multis are given up for good (one warning; every later read goes one node at a time) when
     * the server refuses them, or after {@value #MULTI_LOSSES_BEFORE_OFF} connection losses at least
     * {@value #LOSS_SPACING_MS} ms apart with no multi answered in between: the pattern of an answer
     * larger than the client accepts, which drops the connection again after every reconnection (a
     * blip fails every multi in flight at one moment, and counts once).
     *
     * @return completes (on the event thread) after the last answer was handed to {@code onAnswer};
     *         fails only when a call cannot be made at all (the client is closed)
     */
    CompletableFuture<Void> readChildren(String dir, List<String> children, Consumer<List<ChildRead>> onAnswer) {
        List<CompletableFuture<Void>> chunks = new ArrayList<>();
        for (int i = 0; i < children.size(); i += READ_CHUNK) {
            chunks.add(readChunk(dir, children.subList(i, Math.min(children.size(), i + READ_CHUNK)), onAnswer));
        }
        return CompletableFuture.allOf(chunks.toArray(CompletableFuture[]::new));
    }

    private CompletableFuture<Void> readChunk(String dir, List<String> names, Consumer<List<ChildRead>> onAnswer) {
        if (multiReadOff) {
            return readOneByOne(dir, names, onAnswer);
        }
        // The raw handle does not add Curator's namespace (a chroot in the connect string) to paths.
        String base = ZKPaths.fixForNamespace(client.getNamespace(), dir);
        List<Op> ops = new ArrayList<>(names.size());
        for (String name : names) {
            ops.add(Op.getData(base + "/" + name));
        }
        CompletableFuture<Void> chunk = new CompletableFuture<>();
        try {
            client.getZookeeperClient().getZooKeeper().multi(ops, (rc, path, ctx, results) -> {
                Code code = Code.get(rc);
                // With results, rc is the first op's error (a node gone since it was listed): each
                // result carries its own code. Without them the multi failed as a whole.
                if (results != null && results.size() == names.size()) {
                    multiAnswered();
                    List<ChildRead> reads = new ArrayList<>(names.size());
                    for (int i = 0; i < names.size(); i++) {
                        reads.add(childRead(names.get(i), results.get(i)));
                    }
                    handOver(onAnswer, reads, chunk);
                    return;
                }
                multiFailed(dir, code);
                readOneByOne(dir, names, onAnswer).whenComplete((x, e) -> {
                    if (e != null) {
                        chunk.completeExceptionally(e);
                    } else {
                        chunk.complete(null);
                    }
                });
            }, null);
        } catch (Exception e) {
            chunk.completeExceptionally(e);
        }
        return chunk;
    }

    private synchronized void multiAnswered() {
        lossesInARow = 0;
    }

    /** Reads go one node at a time from now on, as after {@link #multiFailed} gave multis up (tests). */
    void disableMultiReads() {
        multiReadOff = true;
    }

    /** Counts a failed multi towards giving multis up. */
    private synchronized void multiFailed(String dir, Code code) {
        boolean off = code == Code.UNIMPLEMENTED;
        if (code == Code.CONNECTIONLOSS) {
            long now = System.nanoTime();
            if (lossesInARow == 0 || now - lastCountedLossNanos >= TimeUnit.MILLISECONDS.toNanos(LOSS_SPACING_MS)) {
                lastCountedLossNanos = now;
                off = ++lossesInARow >= MULTI_LOSSES_BEFORE_OFF;
            }
        }
        if (off && !multiReadOff) {
            multiReadOff = true;
            LOG.warn("reading {} with read-only multis failed ({}{}); reading nodes one at a time from now on", dir, code,
                    code == Code.CONNECTIONLOSS ? " after every reconnection: an answer may exceed the client's jute.maxbuffer" : "");
        }
    }

    private static void handOver(Consumer<List<ChildRead>> onAnswer, List<ChildRead> reads, CompletableFuture<Void> done) {
        try {
            onAnswer.accept(reads);
            done.complete(null);
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
        }
    }

    private static ChildRead childRead(String name, OpResult result) {
        if (result instanceof OpResult.GetDataResult d) {
            return new ChildRead(name, Code.OK, d.getStat(), d.getData());
        }
        Code code = result instanceof OpResult.ErrorResult err ? Code.get(err.getErr()) : Code.SYSTEMERROR;
        return new ChildRead(name, code, null, null);
    }

    /** Each node with its own {@code getData} (Curator adds the namespace), each read handed over as it arrives. */
    private CompletableFuture<Void> readOneByOne(String dir, List<String> names, Consumer<List<ChildRead>> onAnswer) {
        List<CompletableFuture<Void>> reads = new ArrayList<>(names.size());
        for (String name : names) {
            CompletableFuture<Void> one = new CompletableFuture<>();
            getData(dir + "/" + name).whenComplete((ev, e) -> {
                if (e != null) {
                    one.completeExceptionally(e);
                } else {
                    handOver(onAnswer, List.of(new ChildRead(name, code(ev), ev.getStat(), ev.getData())), one);
                }
            });
            reads.add(one);
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new));
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
     * and the client drops them (removing all watches of the path would also remove the view's).
     */
    CompletableFuture<CuratorEvent> removePersistentRecursiveWatch(String path, Watcher watcher) {
        return run(cb -> client.watchers().remove(watcher).ofType(Watcher.WatcherType.PersistentRecursive)
                .quietly().inBackground(cb).forPath(path));
    }
}
