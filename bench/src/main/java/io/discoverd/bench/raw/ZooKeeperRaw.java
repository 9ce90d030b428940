package io.discoverd.bench.raw;

import io.discoverd.bench.store.ZooKeeperServerProcess;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.BackgroundCallback;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.Watcher;

/**
 * The ZooKeeper baseline through Curator's asynchronous ({@code inBackground}) API, under its own
 * root so that the daemon's caches never see it.
 */
public final class ZooKeeperRaw implements RawStore {

    private static final String ROOT = "/raw";

    private final CuratorFramework client;
    /** The latch node of each instance node made by {@link #register}, for {@link #unregister}. */
    private final Map<String, String> latches = new ConcurrentHashMap<>();

    /** Connects (at most 30 s) to the server at {@code connectString}, with the daemon's session timeout. */
    public ZooKeeperRaw(String connectString) throws InterruptedException {
        client = CuratorFrameworkFactory.builder().connectString(connectString)
                .sessionTimeoutMs(ZooKeeperServerProcess.SESSION_TIMEOUT_SECONDS * 1000).connectionTimeoutMs(30_000)
                .retryPolicy(new RetryOneTime(100)).build();
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("Curator did not connect to " + connectString);
        }
    }

    @Override
    public String registerCalls() {
        return "create EPHEMERAL_SEQUENTIAL latch node, then create EPHEMERAL instance node with data (Curator inBackground)";
    }

    @Override
    public String refreshCalls() {
        return "setData on the instance node (a store write; the daemon's heartbeat makes none)";
    }

    @Override
    public String watchCalls() {
        return "a persistent recursive watch on the service directory (Curator's PersistentWatcher) and a getData "
                + "of each created node (Curator inBackground), as the daemon's view follows a service";
    }

    @Override
    public CompletableFuture<Void> register(String service, String addr, String attrsJson) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        String instance = instancePath(service, addr);
        try {
            client.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                    .inBackground((c, latch) -> callback(done, () -> {
                        latches.put(instance, latch.getName());
                        client.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL)
                                .inBackground(callback(done, () -> done.complete(null)))
                                .forPath(instance, attrsJson.getBytes(StandardCharsets.UTF_8));
                    }).processResult(c, latch))
                    .forPath(ROOT + "/leaders/" + service + "/latch-");
        } catch (Exception e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    @Override
    public CompletableFuture<Void> unregister(String service, String addr) {
        String instance = instancePath(service, addr);
        String latch = latches.remove(instance);
        if (latch == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("not registered: " + service + " " + addr));
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            client.delete().inBackground(callback(done, () -> client.delete()
                    .inBackground(callback(done, () -> done.complete(null))).forPath(latch))).forPath(instance);
        } catch (Exception e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    @Override
    public int deleteEmptyServices(String daemonRoot, String namePrefix) throws Exception {
        int deleted = 0;
        for (String dir : List.of(daemonRoot + "/services", daemonRoot + "/leaders", ROOT + "/services", ROOT + "/leaders")) {
            List<String> children;
            try {
                children = client.getChildren().forPath(dir);
            } catch (KeeperException.NoNodeException e) {
                continue;
            }
            for (String child : children) {
                if (child.startsWith(namePrefix)) {
                    try {
                        client.delete().forPath(dir + "/" + child);
                        deleted++;
                    } catch (KeeperException.NotEmptyException | KeeperException.NoNodeException e) {
                        // still in use, or swept by the server meanwhile
                    }
                }
            }
        }
        return deleted;
    }

    @Override
    public CompletableFuture<Void> refresh(String service, String addr) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            client.setData().inBackground(callback(done, () -> done.complete(null)))
                    .forPath(instancePath(service, addr), "{}".getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    @Override
    public AutoCloseable watch(String service, Consumer<String> created) throws Exception {
        String dir = ROOT + "/services/" + service;
        client.createContainers(dir);
        PersistentWatcher watcher = new PersistentWatcher(client, dir, true);
        CountDownLatch set = new CountDownLatch(1);
        watcher.getResetListenable().addListener(set::countDown);
        watcher.getListenable().addListener(event -> {
            String path = event.getPath();
            if (event.getType() == Watcher.Event.EventType.NodeCreated && path != null && path.startsWith(dir + "/")) {
                try {
                    client.getData().inBackground((c, data) -> {
                        if (data.getResultCode() == 0) {
                            created.accept(path.substring(dir.length() + 1));
                        }
                    }).forPath(path);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        watcher.start();
        if (!set.await(30, TimeUnit.SECONDS)) {
            watcher.close();
            throw new IllegalStateException("the watch on " + dir + " was not set");
        }
        return watcher::close;
    }

    /** Nodes per read-only multi: the daemon's chunk (backend-zookeeper's {@code AsyncZk.READ_CHUNK}). */
    private static final int READ_CHUNK = 64;

    @Override
    public String readCalls() {
        return "getChildren of the service directory, then the instance nodes' data in read-only multis of "
                + READ_CHUNK + " getData ops (all in flight), as the daemon reads a service";
    }

    @Override
    public CompletableFuture<Integer> readService(String daemonServiceDir) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        try {
            client.getChildren().inBackground((c, children) -> {
                if (children.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                    done.complete(0); // a service without instances (and so without a directory)
                    return;
                }
                if (children.getResultCode() != 0) {
                    done.completeExceptionally(KeeperException.create(KeeperException.Code.get(children.getResultCode()), daemonServiceDir));
                    return;
                }
                List<String> names = children.getChildren();
                if (names.isEmpty()) {
                    done.complete(0);
                    return;
                }
                AtomicInteger left = new AtomicInteger((names.size() + READ_CHUNK - 1) / READ_CHUNK);
                for (int i = 0; i < names.size(); i += READ_CHUNK) {
                    List<Op> ops = new ArrayList<>();
                    for (String name : names.subList(i, Math.min(names.size(), i + READ_CHUNK))) {
                        ops.add(Op.getData(daemonServiceDir + "/" + name));
                    }
                    client.getZookeeperClient().getZooKeeper().multi(ops, (rc, path, ctx, results) -> {
                        // With results, rc is the first op's own error (a node gone since the listing).
                        if (results == null) {
                            done.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), daemonServiceDir));
                        } else if (left.decrementAndGet() == 0) {
                            done.complete(names.size());
                        }
                    }, null);
                }
            }).forPath(daemonServiceDir);
        } catch (Exception e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    private static String instancePath(String service, String addr) {
        return ROOT + "/services/" + service + "/" + addr;
    }

    private interface Step {
        void run() throws Exception;
    }

    private static BackgroundCallback callback(CompletableFuture<Void> done, Step next) {
        return (c, event) -> {
            if (event.getResultCode() != 0) {
                done.completeExceptionally(KeeperException.create(KeeperException.Code.get(event.getResultCode()), event.getPath()));
                return;
            }
            try {
                next.run();
            } catch (Exception e) {
                done.completeExceptionally(e);
            }
        };
    }

    @Override
    public void close() {
        client.close();
    }
}
