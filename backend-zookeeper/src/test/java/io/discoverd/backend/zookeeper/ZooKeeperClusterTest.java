package io.discoverd.backend.zookeeper;

import static io.discoverd.backend.zookeeper.ZooKeeperTestSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Registration;
import io.discoverd.backend.contract.RecordingListener;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon on a 3-node ensemble while servers fail (issue 3): the server it is connected to dies
 * and comes back, then the ensemble leader dies (quorum kept throughout), with registrations and
 * heartbeats in flight. No registration is lost, nothing goes offline, {@code created} never changes.
 */
class ZooKeeperClusterTest {

    private static final Duration TTL = Duration.ofSeconds(2);
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    /** The role of a server ("leader", "follower"), from its {@code srvr} four-letter command (whitelisted by default). */
    private static String mode(InstanceSpec spec) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", spec.getPort()), 1000);
            s.setSoTimeout(2000);
            OutputStream out = s.getOutputStream();
            out.write("srvr".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            for (String line : answer.split("\n")) {
                if (line.startsWith("Mode: ")) {
                    return line.substring(6).trim();
                }
            }
            return "unknown";
        } catch (Exception e) {
            return "down";
        }
    }

    /**
     * Starts a 3-node ensemble. Its ports are picked free and bound later, so another process on
     * the machine can take one in between: such a start is retried with new ports.
     */
    private static TestingCluster startCluster() throws Exception {
        for (int attempt = 1; ; attempt++) {
            TestingCluster c = new TestingCluster(3);
            try {
                c.start();
                return c;
            } catch (Exception e) {
                c.close();
                if (attempt == 3) {
                    throw e;
                }
            }
        }
    }

    @Test
    void serverFailures_withQuorumKept_loseNoRegistration_andNothingGoesOffline() throws Exception {
        Vertx vertx = Vertx.vertx();
        TestingCluster cluster = startCluster();
        List<DiscoveryBackend> backends = new ArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread client = null;
        try {
            JsonObject cfg = new JsonObject().put("connect", cluster.getConnectString())
                    .put("sessionTimeout", "30s").put("connectionTimeout", "3s"); // an election here can take ~10 s
            ZooKeeperBackend daemon = (ZooKeeperBackend) ZooKeeperTestSupport.create(vertx, cfg, TTL,
                    Files.createDirectories(tmp.resolve("a")));
            backends.add(daemon);
            DiscoveryBackend peer = ZooKeeperTestSupport.create(vertx, cfg, Duration.ofSeconds(60),
                    Files.createDirectories(tmp.resolve("b")));
            backends.add(peer);
            waitFor(TIMEOUT, "connected", () -> daemon.isConnected() && peer.isConnected());
            RecordingListener atPeer = new RecordingListener();
            peer.subscribe("cl", atPeer);
            atPeer.awaitCurrent(TIMEOUT);

            // The clients: a new instance every 100 ms (retried until accepted, as a client does) and a
            // heartbeat for every accepted one each round; each answer must carry its first created.
            Map<String, Long> accepted = new ConcurrentHashMap<>();
            AtomicReference<Throwable> broken = new AtomicReference<>();
            client = new Thread(() -> {
                int next = 0;
                try {
                    while (running.get()) {
                        String addr = "i" + next + ":1";
                        try {
                            Registration r = daemon.register("cl", addr, null).toCompletableFuture().get(10, TimeUnit.SECONDS);
                            Long before = accepted.putIfAbsent(addr, r.instance().created());
                            if (before != null && before != r.instance().created()) {
                                throw new AssertionError(addr + " created changed from " + before + " to " + r);
                            }
                            next++;
                        } catch (ExecutionException e) {
                            if (!(e.getCause() instanceof DiscoveryException.StoreUnavailable)) {
                                throw e;
                            }
                        }
                        for (Map.Entry<String, Long> e : accepted.entrySet()) {
                            Registration hb = daemon.register("cl", e.getKey(), null).toCompletableFuture().get(10, TimeUnit.SECONDS);
                            if (hb.instance().created() != e.getValue()) {
                                throw new AssertionError(e.getKey() + " created changed: " + hb);
                            }
                        }
                        Thread.sleep(100); // the clients' pace
                    }
                } catch (Throwable t) {
                    broken.set(t);
                }
            }, "cluster-test-client");
            client.start();
            waitFor(TIMEOUT, "some registrations", () -> accepted.size() >= 5);

            // 1. The server the daemon is connected to dies, and comes back.
            InstanceSpec connectedTo = cluster.findConnectionInstance(daemon.client().getZookeeperClient().getZooKeeper());
            assertNotNull(connectedTo);
            int before = accepted.size();
            assertTrue(cluster.killServer(connectedTo));
            waitFor(TIMEOUT, "registrations continue after the failover", () -> accepted.size() >= before + 5);
            assertTrue(cluster.restartServer(connectedTo));
            waitFor(TIMEOUT, "the restarted server serves", () -> !mode(connectedTo).equals("down"));

            // 2. The ensemble leader dies (the other two keep the quorum).
            InstanceSpec leader = null;
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (leader == null && System.nanoTime() < deadline) {
                for (InstanceSpec spec : cluster.getInstances()) {
                    if (mode(spec).equals("leader")) {
                        leader = spec;
                    }
                }
            }
            assertNotNull(leader, "an ensemble leader");
            int beforeLeader = accepted.size();
            assertTrue(cluster.killServer(leader));
            waitFor(TIMEOUT, "registrations continue after the leader's death", () -> accepted.size() >= beforeLeader + 5);
            // Heartbeats go on for more than a TTL after the last fault.
            int settled = accepted.size();
            waitFor(TIMEOUT, "another TTL of traffic", () -> accepted.size() >= settled + 25);
            running.set(false);
            client.join(15_000);
            if (broken.get() != null) {
                throw new AssertionError("a client call failed", broken.get());
            }

            // Nothing lost, nothing went offline, same created everywhere.
            RecordingListener fresh = new RecordingListener();
            peer.subscribe("cl", fresh);
            Map<String, Long> inStore = new java.util.HashMap<>();
            for (RecordingListener.Event e : fresh.awaitCurrent(TIMEOUT)) {
                inStore.put(e.addr(), e.created());
            }
            assertEquals(accepted, inStore, "every accepted registration is in the store with its created");
            assertTrue(atPeer.live().stream().noneMatch(e -> e.kind() == RecordingListener.Kind.OFFLINE),
                    "no offline update: " + atPeer.events());
            waitFor(TIMEOUT, "the live subscriber converged", () -> atPeer.live().stream()
                    .filter(e -> e.kind() == RecordingListener.Kind.ONLINE).map(RecordingListener.Event::addr)
                    .collect(java.util.stream.Collectors.toSet()).equals(accepted.keySet()));
            atPeer.assertNoViolations();
        } finally {
            running.set(false);
            if (client != null) {
                client.join(15_000);
            }
            for (DiscoveryBackend b : backends) {
                b.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            cluster.close();
            vertx.close().toCompletionStage().toCompletableFuture().join();
        }
    }
}
