package io.discoverd.backend.etcd;

import static io.discoverd.backend.etcd.EtcdTests.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Registration;
import io.discoverd.backend.Registration.Outcome;
import io.discoverd.backend.contract.RecordingListener;
import io.discoverd.backend.contract.RecordingListener.Event;
import io.discoverd.backend.contract.RecordingListener.Kind;
import io.discoverd.backend.etcd.testing.EtcdCluster;
import io.discoverd.backend.etcd.testing.EtcdProcess;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon on a 3-member etcd cluster while members fail, with registrations and heartbeats in
 * flight: a member the daemon talks to stops and comes back, then the etcd leader dies (quorum kept
 * throughout). No registration is lost, nothing goes offline at any subscriber, {@code created}
 * never changes, and every registration reaches every subscriber exactly once.
 *
 * <p>Heartbeats and registrations that fail during a failover window are retried, as a real client
 * does; the test counts them and prints the count.
 */
class EtcdClusterTest {

    private static final Duration TTL = Duration.ofSeconds(2);
    private static final String SERVICE = "cl";

    @TempDir
    Path tmp;

    /** The member that is the etcd leader now, asked through {@code status} of every running member. */
    private static EtcdProcess leader(Client c, EtcdCluster cluster) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Map<Long, EtcdProcess> byId = new HashMap<>();
            long leaderId = 0;
            for (EtcdProcess m : cluster.members()) {
                if (!m.isRunning()) {
                    continue;
                }
                try {
                    StatusResponse s = c.getMaintenanceClient().statusMember(m.endpoint()).get(3, TimeUnit.SECONDS);
                    byId.put(s.getHeader().getMemberId(), m);
                    leaderId = leaderId == 0 ? s.getLeader() : leaderId;
                } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                    // a member that does not answer now; ask again
                }
            }
            if (leaderId != 0 && byId.containsKey(leaderId)) {
                return byId.get(leaderId);
            }
            Thread.sleep(50); // polling the cluster's status: no event to wait on
        }
        return null;
    }

    @Test
    void memberFailures_withQuorumKept_loseNoRegistration_andNothingGoesOffline() throws Exception {
        Vertx vertx = Vertx.vertx();
        EtcdCluster cluster = EtcdCluster.start(3);
        Client status = EtcdTests.jetcd(cluster.endpoints());
        List<DiscoveryBackend> backends = new ArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> clients = new ArrayList<>();
        try {
            JsonObject section = EtcdTestSupport.section(cluster.endpoints(), EtcdTestSupport.uniquePrefix());
            DiscoveryBackend daemon = EtcdTestSupport.backend(vertx, section, TTL, Files.createDirectories(tmp.resolve("a")));
            backends.add(daemon);
            DiscoveryBackend peer = EtcdTestSupport.backend(vertx, section, Duration.ofSeconds(60), Files.createDirectories(tmp.resolve("b")));
            backends.add(peer);
            EtcdTests.waitFor(TIMEOUT, "connected", () -> daemon.isConnected() && peer.isConnected());
            RecordingListener atPeer = new RecordingListener();
            RecordingListener atDaemon = new RecordingListener();
            peer.subscribe(SERVICE, atPeer);
            daemon.subscribe(SERVICE, atDaemon);
            atPeer.awaitCurrent(TIMEOUT);
            atDaemon.awaitCurrent(TIMEOUT);

            Map<String, Long> accepted = new ConcurrentHashMap<>();
            AtomicReference<Throwable> broken = new AtomicReference<>();
            AtomicInteger heartbeats = new AtomicInteger();
            AtomicInteger failedHeartbeats = new AtomicInteger();
            AtomicInteger failedRegistrations = new AtomicInteger();
            AtomicInteger slowestHeartbeatRoundMs = new AtomicInteger();

            // 20 instances, registered before the faults, all at once: one after another they took more
            // than the 2 s TTL on a loaded machine, and the first expired before its first heartbeat.
            Map<String, CompletableFuture<Registration>> initial = new HashMap<>();
            for (int i = 0; i < 20; i++) {
                initial.put("h" + i + ":1", daemon.register(SERVICE, "h" + i + ":1", Map.of("i", "" + i)).toCompletableFuture());
            }
            for (Map.Entry<String, CompletableFuture<Registration>> e : initial.entrySet()) {
                accepted.put(e.getKey(), EtcdTests.await(e.getValue()).instance().created());
            }

            // Heartbeats of every accepted instance every TTL/3, all in flight together; a failed one is retried.
            Thread heartbeater = new Thread(() -> {
                try {
                    while (running.get()) {
                        long t0 = System.nanoTime();
                        Map<String, CompletableFuture<Registration>> round = new HashMap<>();
                        for (String addr : accepted.keySet()) {
                            round.put(addr, heartbeat(daemon, addr).toCompletableFuture());
                        }
                        for (Map.Entry<String, CompletableFuture<Registration>> e : round.entrySet()) {
                            String addr = e.getKey();
                            Registration r = null;
                            CompletableFuture<Registration> f = e.getValue();
                            while (r == null) {
                                try {
                                    r = f.get(10, TimeUnit.SECONDS);
                                } catch (ExecutionException x) {
                                    if (!(x.getCause() instanceof DiscoveryException.StoreUnavailable)) {
                                        throw x;
                                    }
                                    failedHeartbeats.incrementAndGet();
                                    f = heartbeat(daemon, addr).toCompletableFuture();
                                }
                            }
                            heartbeats.incrementAndGet();
                            if (r.outcome() != Outcome.REFRESHED || r.instance().created() != accepted.get(addr)) {
                                throw new AssertionError("heartbeat of " + addr + " (created " + accepted.get(addr) + ") answered " + r);
                            }
                        }
                        int ms = (int) TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                        slowestHeartbeatRoundMs.accumulateAndGet(ms, Math::max);
                        Thread.sleep(Math.max(0, TTL.toMillis() / 3 - ms)); // the clients' heartbeat interval
                    }
                } catch (Throwable t) {
                    broken.compareAndSet(null, t);
                }
            }, "cluster-test-heartbeats");

            // A new instance every 150 ms, retried until accepted, as a client does; then heartbeated with the rest.
            Thread registrar = new Thread(() -> {
                int next = 0;
                try {
                    while (running.get()) {
                        String addr = "n" + next + ":1";
                        try {
                            Registration r = daemon.register(SERVICE, addr, Map.of("i", "" + next)).toCompletableFuture().get(10, TimeUnit.SECONDS);
                            if (r.outcome() == Outcome.UPDATED) {
                                throw new AssertionError("a first registration answered " + r);
                            }
                            Long before = accepted.putIfAbsent(addr, r.instance().created());
                            if (before != null && before != r.instance().created()) {
                                throw new AssertionError(addr + " created changed from " + before + " to " + r);
                            }
                            next++;
                        } catch (ExecutionException e) {
                            if (!(e.getCause() instanceof DiscoveryException.StoreUnavailable)) {
                                throw e;
                            }
                            failedRegistrations.incrementAndGet();
                        }
                        Thread.sleep(150); // the clients' pace
                    }
                } catch (Throwable t) {
                    broken.compareAndSet(null, t);
                }
            }, "cluster-test-registrations");
            clients.add(heartbeater);
            clients.add(registrar);
            heartbeater.start();
            registrar.start();
            EtcdTests.waitFor(TIMEOUT, "some registrations", () -> accepted.size() >= 25 && broken.get() == null);

            // (a) Member 0 (the first endpoint: calls and the watch start there) stops, and comes back.
            EtcdProcess first = cluster.members().get(0);
            int before = accepted.size();
            first.stop();
            EtcdTests.waitFor(TIMEOUT, "registrations to continue without member 0", () -> accepted.size() >= before + 5 || broken.get() != null);
            first.start();
            first.awaitReady();
            int afterRestart = accepted.size();
            EtcdTests.waitFor(TIMEOUT, "registrations after member 0 is back", () -> accepted.size() >= afterRestart + 5 || broken.get() != null);

            // (b) The etcd leader dies (SIGKILL: no leadership hand-over, a real election); two members keep the quorum.
            EtcdProcess leader = leader(status, cluster);
            assertNotNull(leader, "an etcd leader");
            int beforeLeader = accepted.size();
            long killedAt = System.nanoTime();
            leader.kill();
            EtcdTests.waitFor(TIMEOUT, "registrations to continue after the leader's death", () -> accepted.size() >= beforeLeader + 5 || broken.get() != null);
            long recoveredMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
            // More than a TTL of traffic after the last fault.
            int settled = accepted.size();
            EtcdTests.waitFor(TIMEOUT, "another TTL of traffic", () -> accepted.size() >= settled + 15 || broken.get() != null);
            running.set(false);
            for (Thread t : clients) {
                t.join(30_000);
            }
            System.out.printf("EtcdClusterTest: leader %s killed; %d registrations (%d failed attempts), %d heartbeats "
                            + "(%d failed and retried), slowest heartbeat round %d ms, 5 registrations %d ms after the kill%n",
                    leader.name(), accepted.size(), failedRegistrations.get(), heartbeats.get(), failedHeartbeats.get(),
                    slowestHeartbeatRoundMs.get(), recoveredMs);
            if (broken.get() != null) {
                throw new AssertionError("a client call failed", broken.get());
            }

            // Nothing lost, same created, through the peer.
            RecordingListener fresh = new RecordingListener();
            peer.subscribe(SERVICE, fresh);
            Map<String, Long> inStore = new HashMap<>();
            for (Event e : fresh.awaitCurrent(TIMEOUT)) {
                inStore.put(e.addr(), e.created());
            }
            assertEquals(new java.util.TreeMap<>(accepted), new java.util.TreeMap<>(inStore),
                    "every accepted registration is in the store with its created");

            // Every subscriber: each registration online exactly once, with its created; nothing offline.
            for (RecordingListener l : List.of(atPeer, atDaemon)) {
                String who = l == atPeer ? "peer" : "daemon";
                l.awaitUntil(TIMEOUT, who + "'s subscriber to see every registration",
                        evs -> evs.stream().filter(e -> e.kind() == Kind.ONLINE).map(Event::addr).distinct().count() >= accepted.size());
                Map<String, List<String>> byAddr = EtcdTests.liveByAddr(l);
                List<String> wrong = new ArrayList<>();
                for (Map.Entry<String, List<String>> e : byAddr.entrySet()) {
                    Long created = accepted.get(e.getKey());
                    if (created == null || e.getValue().size() != 1 || !e.getValue().get(0).startsWith("online(")
                            || !e.getValue().get(0).endsWith(", " + created + ")")) {
                        wrong.add(e.getKey() + " -> " + e.getValue() + " (accepted created " + created + ")");
                    }
                }
                assertEquals(List.of(), wrong, "at the " + who + ": every registration exactly once, nothing offline");
                assertEquals(accepted.keySet(), byAddr.keySet(), "at the " + who);
                assertTrue(l.live().stream().noneMatch(e -> e.kind() == Kind.OFFLINE || e.kind() == Kind.FAILED), who);
                l.assertNoViolations();
            }
        } finally {
            running.set(false);
            for (Thread t : clients) {
                t.join(30_000);
            }
            for (DiscoveryBackend b : backends) {
                b.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            status.close();
            cluster.close();
            vertx.close().toCompletionStage().toCompletableFuture().join();
        }
    }

    private static java.util.concurrent.CompletionStage<Registration> heartbeat(DiscoveryBackend b, String addr) {
        return b.register(SERVICE, addr, Map.of("i", addr.substring(1, addr.indexOf(':'))));
    }
}
