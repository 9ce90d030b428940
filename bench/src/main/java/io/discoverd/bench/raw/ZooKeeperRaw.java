package io.discoverd.bench.raw;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.BackgroundCallback;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

/**
 * The ZooKeeper baseline through Curator's asynchronous ({@code inBackground}) API, under its own
 * root so that the daemon's caches never see it.
 */
public final class ZooKeeperRaw implements RawStore {

    private static final String ROOT = "/raw";

    private final CuratorFramework client;

    /** Connects (at most 30 s) to the server at {@code connectString}. */
    public ZooKeeperRaw(String connectString) throws InterruptedException {
        client = CuratorFrameworkFactory.builder().connectString(connectString)
                .sessionTimeoutMs(60_000).connectionTimeoutMs(30_000).retryPolicy(new RetryOneTime(100)).build();
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
        return "CuratorCache on the service directory (the recipe the daemon uses)";
    }

    @Override
    public CompletableFuture<Void> register(String service, String addr, String attrsJson) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            client.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                    .inBackground(callback(done, () -> client.create().creatingParentContainersIfNeeded()
                            .withMode(CreateMode.EPHEMERAL)
                            .inBackground(callback(done, () -> done.complete(null)))
                            .forPath(instancePath(service, addr), attrsJson.getBytes(StandardCharsets.UTF_8))))
                    .forPath(ROOT + "/leaders/" + service + "/latch-");
        } catch (Exception e) {
            done.completeExceptionally(e);
        }
        return done;
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
        CuratorCache cache = CuratorCache.build(client, dir);
        CountDownLatch initialized = new CountDownLatch(1);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreates(node -> {
                    if (!node.getPath().equals(dir)) {
                        created.accept(node.getPath().substring(dir.length() + 1));
                    }
                })
                .forInitialized(initialized::countDown)
                .build());
        cache.start();
        if (!initialized.await(30, TimeUnit.SECONDS)) {
            cache.close();
            throw new IllegalStateException("CuratorCache of " + dir + " did not initialise");
        }
        return cache::close;
    }

    @Override
    public String readCalls() {
        return "getChildren of the service directory, then getData of every instance node (Curator inBackground, all in flight)";
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
                AtomicInteger left = new AtomicInteger(names.size());
                for (String name : names) {
                    client.getData().inBackground((c2, data) -> {
                        if (left.decrementAndGet() == 0) {
                            done.complete(names.size());
                        }
                    }).forPath(daemonServiceDir + "/" + name);
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
