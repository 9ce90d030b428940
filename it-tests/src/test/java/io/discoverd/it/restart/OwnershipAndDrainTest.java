package io.discoverd.it.restart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.EachBackend;
import io.discoverd.it.EtcdStore;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.TestStore;
import io.discoverd.it.ZooKeeperStore;
import io.discoverd.it.json.JsonRpcClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

/**
 * Two daemons on one store (issue 3, second test item; PROTOCOL.md §5.6, §6.4, §8 #47): heartbeats
 * may reach any daemon, Unregister through any daemon removes an instance, and draining a daemon
 * ({@code bin/discoverd drain}) takes exactly the instances registered through it offline at once;
 * their heartbeats then reaching another daemon register them anew. On ZooKeeper an instance
 * belongs to the session of the daemon that created it; on etcd to a lease that the registering
 * daemon granted and that a drain revokes. TTL 3 s; the Go clients heartbeat every second.
 */
@EachBackend
class OwnershipAndDrainTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    private static final String TTL = "3s";
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** Heartbeat rounds that span more than 2×TTL (one round a second). */
    private static final int ROUNDS_PAST_TWO_TTL = 7;

    @TempDir
    static Path tmp;
    private static TestStore store;
    private static Path dir;
    private static DaemonProcess a;
    private static DaemonProcess b;

    @BeforeParameterizedClassInvocation
    static void start(Backend backend) throws Exception {
        store = backend.startStore();
        dir = tmp.resolve(backend.configName());
        a = StoreAndDaemon.startDaemon(store, dir.resolve("a"), "registrationTtl: " + TTL);
        b = StoreAndDaemon.startDaemon(store, dir.resolve("b"), "registrationTtl: " + TTL);
    }

    @AfterParameterizedClassInvocation
    static void stop() throws Exception {
        for (DaemonProcess d : new DaemonProcess[] {a, b}) {
            if (d != null) {
                d.close();
            }
        }
        if (store != null) {
            store.close();
        }
    }

    private static String logs(DaemonProcess... daemons) {
        StringBuilder sb = new StringBuilder();
        for (DaemonProcess d : daemons) {
            sb.append("\n--- daemon ").append(d.address()).append('\n').append(RestartScenario.tail(d.output()));
        }
        return sb.toString();
    }

    @Test
    @DisplayName("issue 3, #47: heartbeats moved from the owning daemon A to B keep the instance online for more than 2×TTL with the same "
            + "Created and no update at subscribers of either; once they stop, it expires")
    void heartbeatsMovedToTheOtherDaemonKeepTheInstance() throws Exception {
        String name = "moved";
        try (GoProcess watchA = GoProcess.watch(a.address(), name); GoProcess watchB = GoProcess.watch(b.address(), name)) {
            Map<String, Long> before;
            int markA;
            int markB;
            try (GoProcess viaA = GoProcess.heartbeat(a.address(), name, 7201)) {
                Views.awaitOkRounds(viaA, 0, 1, WAIT);
                before = Views.awaitView(watchB, v -> v.size() == 1, WAIT, "the instance");
                assertEquals(before, Views.awaitView(watchA, v -> v.size() == 1, WAIT, "the instance"));
                markA = watchA.mark();
                markB = watchB.mark();
            }
            try (GoProcess viaB = GoProcess.heartbeat(b.address(), name, 7201)) {
                Views.awaitOkRounds(viaB, 0, ROUNDS_PAST_TWO_TTL, WAIT);
                Supplier<String> why = () -> "\n--- heartbeats\n" + viaB.describe() + "\n--- watcher on A\n" + watchA.describe()
                        + "\n--- watcher on B\n" + watchB.describe() + logs(a, b);
                assertEquals(List.of(), Views.eventsOf(viaB, "register-error", 0), why);
                assertEquals(List.of(), Views.liveUpdates(watchA, markA), why);
                assertEquals(List.of(), Views.liveUpdates(watchB, markB), why);
                assertEquals(before, Views.snapshot(a.port(), name), why);
                assertEquals(before, Views.snapshot(b.port(), name), why);
            }
            // without heartbeats, the owner expires it after the TTL: the heartbeats at B were what kept it
            long stopped = System.nanoTime();
            watchB.await(markB, e -> e.path("ev").asText().equals("update") && !e.path("Online").asBoolean(), WAIT,
                    "offline update after the heartbeats stopped");
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
            assertTrue(took <= 10_000, () -> "offline only after " + took + " ms" + logs(a, b));
            watchA.await(markA, e -> e.path("ev").asText().equals("update") && !e.path("Online").asBoolean(), WAIT,
                    "offline update after the heartbeats stopped");
        }
    }

    @Test
    @DisplayName("issue 3, §5.9: Unregister through B of an instance owned by A removes it for good: one offline update at subscribers of both, "
            + "still gone past 2×TTL, and the store keeps nothing of it (ZooKeeper: no leader-latch participant; etcd: no key)")
    void unregisterThroughTheNonOwnerRemovesItForGood() throws Exception {
        String name = "unreg";
        try (GoProcess keep = GoProcess.heartbeat(a.address(), name, 7301);
                GoProcess watchA = GoProcess.watch(a.address(), name);
                GoProcess watchB = GoProcess.watch(b.address(), name);
                JsonRpcClient viaA = JsonRpcClient.connect(a.port());
                JsonRpcClient viaB = JsonRpcClient.connect(b.port())) {
            Views.awaitOkRounds(keep, 0, 1, WAIT);
            String removed = viaA.register(name, ":7302", null);
            Map<String, Long> both = Views.awaitView(watchB, v -> v.size() == 2, WAIT, "both instances");
            Views.awaitView(watchA, v -> v.size() == 2, WAIT, "both instances");
            int markA = watchA.mark();
            int markB = watchB.mark();
            int markKeep = keep.mark();

            viaB.unregister(name, ":7302");
            Views.awaitOkRounds(keep, markKeep, ROUNDS_PAST_TWO_TTL, WAIT);
            Supplier<String> why = () -> "\n--- watcher on A\n" + watchA.describe() + "\n--- watcher on B\n" + watchB.describe() + logs(a, b);
            for (GoProcess w : List.of(watchA, watchB)) {
                List<JsonNode> live = Views.liveUpdates(w, w == watchA ? markA : markB);
                assertEquals(1, live.size(), why);
                assertEquals(removed, live.get(0).path("Addr").asText(), why);
                assertFalse(live.get(0).path("Online").asBoolean(), why);
            }
            Map<String, Long> rest = Map.of("127.0.0.1:7301", both.get("127.0.0.1:7301"));
            assertEquals(rest, Views.snapshot(a.port(), name), why);
            assertEquals(rest, Views.snapshot(b.port(), name), why);
            assertEquals("127.0.0.1:7301 created " + both.get("127.0.0.1:7301"), Views.leader(b.port(), name), why);
            if (store instanceof ZooKeeperStore zk) {
                // the store layout (backend-zookeeper README): one participant per instance, data = addr
                assertEquals(List.of("127.0.0.1:7301"), participants(zk, name), why);
            } else if (store instanceof EtcdStore etcd) {
                // the store layout (ARCHITECTURE.md): one leased key per instance
                assertEquals(List.of(EtcdStore.PREFIX + "/services/" + name + "/127.0.0.1:7301"), etcd.keys(name), why);
            }
            assertEquals(List.of(), Views.eventsOf(keep, "register-error", 0), why);
        }
    }

    /** The addresses held by the latch participants of {@code name}, sorted. */
    private static List<String> participants(ZooKeeperStore store, String name) throws Exception {
        try (CuratorFramework zk = CuratorFrameworkFactory.newClient(store.connectString(), new RetryOneTime(100))) {
            zk.start();
            assertTrue(zk.blockUntilConnected(30, TimeUnit.SECONDS));
            String dir = "/discoverd/leaders/" + name;
            List<String> out = new ArrayList<>();
            for (String child : zk.getChildren().forPath(dir)) {
                out.add(new String(zk.getData().forPath(dir + "/" + child), StandardCharsets.UTF_8));
            }
            Collections.sort(out);
            return out;
        }
    }

    @Test
    @DisplayName("issue 3, §5.11, §6.4: draining the owning daemon (bin/discoverd drain --bind, exit 0; the daemon exits 0) takes only its own "
            + "instances offline, at once; those whose heartbeats now reach B come back there with a new, larger Created")
    void drainTakesOnlyTheOwnersInstancesDown() throws Exception {
        String name = "drain";
        Path work = dir.resolve("drained");
        // "At once" must be told apart from the expiry that a plain stop leads to. On ZooKeeper
        // that expiry waits for the session timeout (15 s); on etcd for the lease's TTL, which
        // belongs to the daemon that granted it: the drained daemon's TTL is long there.
        String drainedTtl = backend == Backend.ETCD ? "30s" : TTL;
        boolean zooKeeper = backend == Backend.ZOOKEEPER;
        DaemonProcess drained = StoreAndDaemon.startDaemon(store, work, "registrationTtl: " + drainedTtl);
        try (GoProcess stays = GoProcess.heartbeat(drained.address(), name, 7401);
                GoProcess ownedByB = GoProcess.heartbeat(b.address(), name, 7403);
                GoProcess watchB = GoProcess.watch(b.address(), name)) {
            Views.awaitOkRounds(stays, 0, 1, WAIT);
            Views.awaitOkRounds(ownedByB, 0, 1, WAIT);
            Map<String, Long> before;
            try (GoProcess moving = GoProcess.heartbeat(drained.address(), name, 7402)) {
                Views.awaitOkRounds(moving, 0, 1, WAIT);
                before = Views.awaitView(watchB, v -> v.size() == 3, WAIT, "the three instances");
            }
            try (GoProcess moved = GoProcess.heartbeat(b.address(), name, 7402)) {
                Views.awaitOkRounds(moved, 0, 2, WAIT);
                if (zooKeeper) {
                    assertTrue(Files.exists(work.resolve("data/zookeeper-session.properties")), "session record before the drain");
                }
                int markB = watchB.mark();
                int markOwnedByB = ownedByB.mark();

                DrainRun drain = DrainRun.run(drained.address());
                long drainedAt = System.nanoTime();
                Supplier<String> why = () -> "\n--- drain\n" + drain + "\n--- watcher on B\n" + watchB.describe() + logs(drained, b);
                assertEquals(0, drain.exit(), why);
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (drained.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertFalse(drained.isAlive(), why);
                assertEquals(0, drained.stop(), why);
                if (zooKeeper) {
                    assertFalse(Files.exists(work.resolve("data/zookeeper-session.properties")), why);
                }

                // at once: well before the session timeout (15 s) or lease TTL (30 s) that a plain stop would wait for
                watchB.await(markB, e -> e.path("ev").asText().equals("update") && !e.path("Online").asBoolean()
                        && e.path("Addr").asText().equals("127.0.0.1:7401"), Duration.ofSeconds(5), "offline update of :7401");
                watchB.await(markB, e -> e.path("ev").asText().equals("update") && e.path("Online").asBoolean()
                        && e.path("Addr").asText().equals("127.0.0.1:7402"), WAIT, "online update of :7402 at B");
                long backWithin = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - drainedAt);
                // then past 2×TTL of heartbeats at B: the drained daemon's other instance stays away,
                // B's own one is untouched
                Views.awaitOkRounds(ownedByB, markOwnedByB, ROUNDS_PAST_TWO_TTL, WAIT);

                List<JsonNode> live = Views.liveUpdates(watchB, markB);
                List<String> seen = live.stream().map(e -> (e.path("Online").asBoolean() ? "online " : "offline ")
                        + e.path("Addr").asText()).toList();
                assertEquals(3, seen.size(), why);
                assertTrue(seen.containsAll(List.of("offline 127.0.0.1:7401", "offline 127.0.0.1:7402", "online 127.0.0.1:7402")),
                        () -> seen + why.get());
                assertTrue(seen.indexOf("offline 127.0.0.1:7402") < seen.indexOf("online 127.0.0.1:7402"), () -> seen + why.get());
                long newCreated = live.get(seen.indexOf("online 127.0.0.1:7402")).path("Created").asLong();
                assertTrue(newCreated > Collections.max(before.values()), () -> "Created " + newCreated + " not above " + before
                        + why.get());
                Map<String, Long> after = Map.of("127.0.0.1:7402", newCreated, "127.0.0.1:7403", before.get("127.0.0.1:7403"));
                assertEquals(after, Views.view(watchB), why);
                assertEquals(after, Views.snapshot(b.port(), name), why);
                assertEquals(List.of(), Views.eventsOf(moved, "register-error", 0), why);
                assertEquals(List.of(), Views.eventsOf(ownedByB, "register-error", 0), why);
                assertTrue(backWithin < 15_000, () -> ":7402 back only after " + backWithin + " ms" + why.get());
            }
        } finally {
            drained.close();
        }
    }

    /**
     * One run of {@code bin/discoverd drain --bind ADDR}.
     *
     * @param exit   its exit code
     * @param output what it printed (stdout and stderr)
     */
    private record DrainRun(int exit, String output) {

        static DrainRun run(String address) throws IOException, InterruptedException {
            Path out = Files.createTempFile(tmp, "drain", ".out");
            Process p = new ProcessBuilder(DaemonProcess.ROOT.resolve("bin/discoverd").toString(), "drain", "--bind", address)
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                return new DrainRun(-1, Files.readString(out) + "\n(killed after 60 s)");
            }
            return new DrainRun(p.exitValue(), Files.readString(out));
        }
    }
}
