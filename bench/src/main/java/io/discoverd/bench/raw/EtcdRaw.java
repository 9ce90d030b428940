package io.discoverd.bench.raw;

import io.discoverd.bench.wire.Transports;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The etcd baseline through jetcd's futures, under its own prefix so that the daemon's watches never
 * see it.
 */
public final class EtcdRaw implements RawStore {

    private static final String PREFIX = "/raw/services/";
    private static final String READY = "~ready";

    private final Vertx vertx;
    private final Client client;
    private final long ttlSeconds;
    private final Map<String, Long> leases = new ConcurrentHashMap<>();

    /**
     * @param endpoint   the etcd client URL
     * @param ttlSeconds the TTL of each registration's lease, as the daemon's registrationTtl
     * @param transport  the daemon's transport, on which its own jetcd client runs (on an event loop of
     *                   its own, as this one's channel does here: {@link Transports}), so that the raw
     *                   side's gRPC calls cost what the daemon's do
     */
    public EtcdRaw(String endpoint, long ttlSeconds, String transport) {
        this.vertx = Transports.vertx(transport, new VertxOptions().setUseDaemonThread(true));
        this.client = Client.builder().endpoints(endpoint).vertx(vertx).build();
        this.ttlSeconds = ttlSeconds;
    }

    @Override
    public String registerCalls() {
        return "lease grant, then txn(create revision == 0) put with the lease (jetcd futures)";
    }

    @Override
    public String refreshCalls() {
        return "lease keepAliveOnce of the instance's lease (jetcd's one-shot keep-alive)";
    }

    @Override
    public String watchCalls() {
        return "a jetcd prefix watch on the service's key prefix";
    }

    @Override
    public CompletableFuture<Void> register(String service, String addr, String attrsJson) {
        String key = PREFIX + service + "/" + addr;
        ByteSequence k = bytes(key);
        return client.getLeaseClient().grant(ttlSeconds).thenCompose(grant -> {
            leases.put(key, grant.getID());
            return client.getKVClient().txn()
                    .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                    .Then(Op.put(k, bytes(attrsJson), PutOption.builder().withLeaseId(grant.getID()).build()))
                    .commit();
        }).thenAccept(txn -> {
            if (!txn.isSucceeded()) {
                throw new IllegalStateException(key + " exists");
            }
        });
    }

    @Override
    public CompletableFuture<Void> unregister(String service, String addr) {
        Long lease = leases.remove(PREFIX + service + "/" + addr);
        if (lease == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("not registered: " + service + " " + addr));
        }
        return client.getLeaseClient().revoke(lease).thenAccept(r -> { });
    }

    @Override
    public CompletableFuture<Void> refresh(String service, String addr) {
        Long lease = leases.get(PREFIX + service + "/" + addr);
        if (lease == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("not registered: " + service + " " + addr));
        }
        return client.getLeaseClient().keepAliveOnce(lease).thenAccept(r -> {
            if (r.getTTL() <= 0) {
                throw new IllegalStateException("lease of " + addr + " expired");
            }
        });
    }

    @Override
    public AutoCloseable watch(String service, Consumer<String> created) throws Exception {
        String prefix = PREFIX + service + "/";
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Watch.Watcher watcher = client.getWatchClient().watch(bytes(prefix), WatchOption.builder().isPrefix(true).build(),
                response -> {
                    for (WatchEvent e : response.getEvents()) {
                        if (e.getEventType() != WatchEvent.EventType.PUT || e.getKeyValue().getVersion() != 1) {
                            continue;
                        }
                        String addr = e.getKeyValue().getKey().toString(StandardCharsets.UTF_8).substring(prefix.length());
                        if (addr.equals(READY)) {
                            ready.complete(null);
                        } else {
                            created.accept(addr);
                        }
                    }
                });
        // The watch is in place once it reports a put made after it was opened.
        client.getKVClient().delete(bytes(prefix + READY)).get(30, TimeUnit.SECONDS);
        client.getKVClient().put(bytes(prefix + READY), bytes("")).get(30, TimeUnit.SECONDS);
        ready.get(30, TimeUnit.SECONDS);
        return watcher::close;
    }

    @Override
    public String readCalls() {
        return "one range read of the service's key prefix (jetcd get with isPrefix)";
    }

    @Override
    public CompletableFuture<Integer> readService(String daemonServiceDir) {
        return client.getKVClient().get(bytes(daemonServiceDir + "/"), GetOption.builder().isPrefix(true).build())
                .thenApply(r -> r.getKvs().size());
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        client.close();
        vertx.close().await();
    }
}
