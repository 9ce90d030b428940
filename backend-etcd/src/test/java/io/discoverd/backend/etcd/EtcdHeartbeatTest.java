package io.discoverd.backend.etcd;

import static io.discoverd.backend.etcd.EtcdTests.TIMEOUT;
import static io.discoverd.backend.etcd.EtcdTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Registration;
import io.discoverd.backend.Registration.Outcome;
import io.discoverd.backend.etcd.testing.TcpProxy;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What a heartbeat costs in etcd and what it does there: exactly one lease keep-alive, sent on the
 * backend's one long-lived keep-alive stream (reopened when it breaks), plus a share of a check-only
 * transaction. Costs are read from etcd's own counters ({@code /metrics}: streams started and
 * messages received per gRPC method), not from the backend.
 */
class EtcdHeartbeatTest extends EtcdTestBase {


    /** etcd's counter {@code metric} for one gRPC method of its server (0 when not yet counted). */
    private static long grpcCounter(String metric, String method) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(etcd.endpoint() + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        long sum = 0;
        for (String line : r.body().split("\n")) {
            if (line.startsWith(metric + "{") && line.contains("grpc_method=\"" + method + "\"")) {
                sum += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    private static long leaseOf(String key) throws Exception {
        return probe.getKVClient().get(ByteSequence.from(key, StandardCharsets.UTF_8), GetOption.DEFAULT)
                .get(10, TimeUnit.SECONDS).getKvs().get(0).getLease();
    }

    private static long ttlLeft(long lease) throws Exception {
        return probe.getLeaseClient().timeToLive(lease, LeaseOption.DEFAULT).get(10, TimeUnit.SECONDS).getTTL();
    }

    private String key(String name, String addr) {
        return section.getString("prefix") + "/services/" + name + "/" + addr;
    }

    /**
     * Once its restart window is over, a daemon creates an instance it does not hold at once, as a
     * bare etcd client would: a lease grant and one transaction, no read. An instance that exists
     * (registered through another daemon) is read by that same transaction and refreshed with its
     * {@code created} kept; the lease granted for nothing is revoked.
     */
    @Test
    void afterTheRestartWindow_aNewInstanceCostsALeaseGrantAndOneTransaction() throws Exception {
        DiscoveryBackend other = backend(Duration.ofSeconds(30));
        Registration held = await(other.register("opt", "held:1", Map.of("a", "1")));
        DiscoveryBackend daemon = backend(Duration.ofSeconds(2)); // its window: one TTL, 2 s
        EtcdTests.waitFor(TIMEOUT, "the restart window to end", ((EtcdBackend) daemon)::createsFirst);
        long ranges = grpcCounter("grpc_server_started_total", "Range");
        long txns = grpcCounter("grpc_server_started_total", "Txn");
        long grants = grpcCounter("grpc_server_started_total", "LeaseGrant");
        long revokes = grpcCounter("grpc_server_started_total", "LeaseRevoke");

        for (int i = 0; i < 10; i++) {
            assertEquals(Outcome.CREATED, await(daemon.register("opt", "new" + i + ":1", null)).outcome());
        }
        // Each backend's health probe reads once a second; a read per Register would make at least 10.
        long reads = grpcCounter("grpc_server_started_total", "Range") - ranges;
        assertTrue(reads < 10, reads + " reads for 10 new instances");
        assertEquals(10, grpcCounter("grpc_server_started_total", "Txn") - txns, "transactions for 10 new instances");
        assertEquals(10, grpcCounter("grpc_server_started_total", "LeaseGrant") - grants, "leases for 10 new instances");

        Registration refreshed = await(daemon.register("opt", "held:1", Map.of("a", "1")));
        assertEquals(Outcome.REFRESHED, refreshed.outcome());
        assertEquals(held.instance().created(), refreshed.instance().created());
        EtcdTests.waitFor(TIMEOUT, "the unused lease to be revoked", () -> {
            try {
                return grpcCounter("grpc_server_started_total", "LeaseRevoke") - revokes == 1;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    void heartbeat_refreshesTheLease() throws Exception {
        DiscoveryBackend daemon = backend(Duration.ofSeconds(3));
        Registration r = await(daemon.register("ttl", "x:1", null));
        long lease = leaseOf(key("ttl", "x:1"));
        EtcdTests.waitFor(TIMEOUT, "the lease to run down to 1 s", () -> {
            try {
                return ttlLeft(lease) <= 1;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });

        Registration hb = await(daemon.register("ttl", "x:1", null));
        assertEquals(Outcome.REFRESHED, hb.outcome());
        assertEquals(r.instance().created(), hb.instance().created());
        long left = ttlLeft(lease);
        assertTrue(left >= 2, "the heartbeat did not refresh the lease: " + left + " s left of 3");
    }

    @Test
    void heartbeats_sendOneKeepAliveEach_onOneStream_andShareCheckTransactions() throws Exception {
        DiscoveryBackend daemon = backend(Duration.ofSeconds(30));
        int instances = 50;
        for (int i = 0; i < instances; i++) {
            await(daemon.register("ka", "i" + i + ":1", Map.of("i", "" + i)));
        }
        long streams = grpcCounter("grpc_server_started_total", "LeaseKeepAlive");
        long keepAlives = grpcCounter("grpc_server_msg_received_total", "LeaseKeepAlive");
        long txns = grpcCounter("grpc_server_started_total", "Txn");
        long revision = EtcdTests.revision(probe);

        int rounds = 4;
        for (int round = 0; round < rounds; round++) {
            List<CompletableFuture<Registration>> beats = new ArrayList<>();
            for (int i = 0; i < instances; i++) { // all at once, as many clients' heartbeats arrive
                beats.add(daemon.register("ka", "i" + i + ":1", Map.of("i", "" + i)).toCompletableFuture());
            }
            for (CompletableFuture<Registration> b : beats) {
                assertEquals(Outcome.REFRESHED, b.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).outcome());
            }
        }
        int heartbeats = rounds * instances;

        assertEquals(1, grpcCounter("grpc_server_started_total", "LeaseKeepAlive") - streams,
                "keep-alive streams opened for " + heartbeats + " heartbeats");
        assertEquals(heartbeats, grpcCounter("grpc_server_msg_received_total", "LeaseKeepAlive") - keepAlives,
                "keep-alive requests for " + heartbeats + " heartbeats");
        long txnsUsed = grpcCounter("grpc_server_started_total", "Txn") - txns;
        assertTrue(txnsUsed < heartbeats, txnsUsed + " check transactions for " + heartbeats + " concurrent heartbeats");
        assertEquals(revision, EtcdTests.revision(probe), "heartbeats wrote to the store");
    }

    @Test
    void aBrokenKeepAliveStream_isReopened_andHeartbeatsSucceedAfterwards() throws Exception {
        try (TcpProxy proxy = new TcpProxy(etcd.endpoint())) {
            section = EtcdTestSupport.section(proxy.endpoint(), section.getString("prefix"));
            DiscoveryBackend daemon = backend(Duration.ofSeconds(30));
            Registration r = await(daemon.register("cut", "x:1", null));
            long streams = grpcCounter("grpc_server_started_total", "LeaseKeepAlive");
            assertEquals(Outcome.REFRESHED, await(daemon.register("cut", "x:1", null)).outcome());
            assertEquals(1, grpcCounter("grpc_server_started_total", "LeaseKeepAlive") - streams);

            proxy.cut(); // the daemon's connection, and its keep-alive stream with it, is gone
            Throwable down = EtcdTests.failure(daemon.register("cut", "x:1", null));
            assertInstanceOf(DiscoveryException.StoreUnavailable.class, down, down.toString());
            proxy.restore();
            EtcdTests.waitFor(TIMEOUT, "the daemon to reconnect", daemon::isConnected);

            for (int i = 0; i < 5; i++) {
                Registration hb = await(daemon.register("cut", "x:1", null));
                assertEquals(Outcome.REFRESHED, hb.outcome());
                assertEquals(r.instance().created(), hb.instance().created());
            }
            assertEquals(2, grpcCounter("grpc_server_started_total", "LeaseKeepAlive") - streams,
                    "keep-alive streams: one before the cut, one reopened after it");
        }
    }
}
