package io.discoverd.backend.etcd;

import static io.discoverd.backend.etcd.EtcdTests.TIMEOUT;
import static io.discoverd.backend.etcd.EtcdTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.Registration;
import io.discoverd.backend.Registration.Outcome;
import io.discoverd.backend.contract.RecordingListener;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Watch;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.transport.Transport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * etcd-specific behaviour of one backend on a healthy single-member etcd: the store client's own
 * event loop, which the daemon's Vert.x outlives, and a heartbeat is no store write (ARCHITECTURE.md
 * "Liveness": a keep-alive of the lease, whichever daemon receives it).
 */
class EtcdBackendTest extends EtcdTestBase {


    /** The Vert.x still runs a timer and deploys a verticle. */
    private static void assertAlive(Vertx v) throws Exception {
        CompletableFuture<Long> timer = new CompletableFuture<>();
        v.setTimer(10, timer::complete);
        timer.get(5, TimeUnit.SECONDS);
        String id = v.deployVerticle(new AbstractVerticle() { }).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertTrue(v.deploymentIDs().contains(id));
    }

    /**
     * The store client runs on an event loop of its own, not on the daemon's (EtcdBackendProvider.storeVertx):
     * its watch events arrive on that loop's one thread, which runs on the daemon's transport and has
     * ended when the backend's close completes, while the daemon's Vert.x outlives the backend (jetcd's
     * close closes the Vert.x it was given: it must be the backend's own).
     */
    @Test
    void storeClient_runsOnItsOwnEventLoop_whichEndsAtClose_whileTheDaemonsVertxRuns() throws Exception {
        // On epoll where it loads (as the daemon's default), so that "the daemon's transport" is not just NIO's default.
        Vertx own = Transport.EPOLL != null && Transport.EPOLL.available()
                ? Vertx.builder().withTransport(Transport.EPOLL).build() : Vertx.vertx();
        try {
            EtcdBackend b = (EtcdBackend) EtcdTestSupport.backend(own, section, Duration.ofSeconds(10), dataDir);
            VertxInternal store = (VertxInternal) b.storeVertx;
            Thread loop = store.nettyEventLoopGroup().submit(Thread::currentThread).get(10, TimeUnit.SECONDS);
            assertTrue(loop.getName().startsWith(EtcdBackendProvider.IO_THREAD_PREFIX), loop.getName());
            assertSame(((VertxInternal) own).transport(), store.transport(), "the store client's transport is the daemon's");

            CompletableFuture<Thread> eventThread = new CompletableFuture<>();
            Watch.Watcher watcher = b.watch(b.key("vx", ""), 0, Watch.listener(r -> eventThread.complete(Thread.currentThread())));
            try {
                await(b.register("vx", "a:1", null));
                assertSame(loop, eventThread.get(10, TimeUnit.SECONDS), "the thread of a watch event");
            } finally {
                watcher.close();
            }

            await(b.close());
            assertTrue(store.nettyEventLoopGroup().isTerminated(), "the store client's event loop outlived the backend's close");
            loop.join(TIMEOUT.toMillis()); // Netty completes the termination just before its thread returns
            assertFalse(loop.isAlive(), loop.getName());
            assertAlive(own);
            // A new backend (a restarted daemon in the same process) works on the same Vert.x.
            DiscoveryBackend again = EtcdTestSupport.backend(own, section, Duration.ofSeconds(10), dataDir);
            try {
                Registration r = await(again.register("vx", "a:1", null));
                assertEquals(Outcome.REFRESHED, r.outcome());
                EtcdTests.waitFor(TIMEOUT, "connected", again::isConnected);
            } finally {
                await(again.close());
            }
            assertAlive(own);
        } finally {
            own.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void heartbeats_writeNothing_andEmitNothing_atTheOwnerOrAnotherDaemon() throws Exception {
        DiscoveryBackend daemon = backend(Duration.ofSeconds(10));
        DiscoveryBackend peer = backend(Duration.ofSeconds(10));
        Map<String, String> attrs = Map.of("k", "v");
        Map<String, Long> created = new HashMap<>();
        for (int i = 0; i < 5; i++) {
            Registration r = await(daemon.register("hb", "h" + i + ":1", i % 2 == 0 ? attrs : null));
            assertEquals(Outcome.CREATED, r.outcome());
            created.put("h" + i + ":1", r.instance().created());
        }
        RecordingListener atDaemon = new RecordingListener();
        RecordingListener atPeer = new RecordingListener();
        daemon.subscribe("hb", atDaemon);
        peer.subscribe("hb", atPeer);
        assertEquals(5, atDaemon.awaitCurrent(TIMEOUT).size());
        assertEquals(5, atPeer.awaitCurrent(TIMEOUT).size());

        long before = EtcdTests.revision(probe);
        int heartbeats = 0;
        for (int round = 0; round < 10; round++) {
            for (int i = 0; i < 5; i++) {
                // Half the rounds at the daemon that registered them, half at the other one.
                DiscoveryBackend at = round % 2 == 0 ? daemon : peer;
                Registration r = await(at.register("hb", "h" + i + ":1", i % 2 == 0 ? Map.of("k", "v") : null));
                assertEquals(Outcome.REFRESHED, r.outcome(), "round " + round + ": " + r);
                assertEquals(created.get("h" + i + ":1"), r.instance().created());
                heartbeats++;
            }
        }
        long after = EtcdTests.revision(probe);
        assertEquals(before, after, heartbeats + " heartbeats moved the etcd revision: each one wrote to the store");

        // A marker change: once it arrives, anything the heartbeats emitted would have arrived before it.
        await(peer.register("hb", "marker:1", null));
        atDaemon.awaitOnline(TIMEOUT, "marker:1");
        atPeer.awaitOnline(TIMEOUT, "marker:1");
        atDaemon.assertLiveOnlyAbout("marker:1");
        atPeer.assertLiveOnlyAbout("marker:1");
        assertEquals(1, atDaemon.live().size(), atDaemon.events().toString());
        assertEquals(1, atPeer.live().size(), atPeer.events().toString());
    }

    /**
     * PROTOCOL.md §5.3 / DiscoveryBackend#register: a Register whose attrs differ from the stored ones
     * replaces them (UPDATED, online event), whichever daemon receives it. Here the attrs were changed
     * through another daemon since this daemon last saw the instance, and this daemon has no
     * subscription to the service (so no watch tells it about the change).
     */
    @Test
    void register_withAttrsOtherThanStored_updates_evenIfThisDaemonRememberedThemFromItsOwnRegistration() throws Exception {
        DiscoveryBackend a = backend(Duration.ofSeconds(10));
        DiscoveryBackend b = backend(Duration.ofSeconds(10));
        Registration first = await(a.register("at", "x:1", Map.of("v", "1")));
        assertEquals(Outcome.CREATED, first.outcome());
        Registration moved = await(b.register("at", "x:1", Map.of("v", "2"))); // the instance re-registers elsewhere
        assertEquals(Outcome.UPDATED, moved.outcome());
        RecordingListener l = new RecordingListener();
        b.subscribe("at", l);
        assertEquals(Map.of("v", "2"), l.awaitCurrent(TIMEOUT).get(0).attrs());

        Registration back = await(a.register("at", "x:1", Map.of("v", "1"))); // and comes back with its first attrs
        assertEquals(Map.of("v", "1"), await(b.leader("at")).orElseThrow().attrs(),
                "the store must hold the attrs of the last Register; it answered " + back);
        assertEquals(Outcome.UPDATED, back.outcome());
        assertEquals(first.instance().created(), back.instance().created());
        assertEquals(Map.of("v", "1"), l.awaitOnline(TIMEOUT, "x:1").attrs());
    }

    /**
     * A Register that creates or updates the key remembers the revisions the store holds for it (taken
     * from the write's answer, not read back): {@code created} is the key's create revision, and the
     * mod revision is the one a heartbeat's check compares with (a wrong one would send every
     * heartbeat down the full path, which no answer shows).
     */
    @Test
    void register_remembersTheRevisionsTheStoreHolds_forCreatesAndUpdates() throws Exception {
        EtcdBackend daemon = (EtcdBackend) backend(Duration.ofSeconds(10));
        await(daemon.register("revs", "other:1", null)); // the store revision is not the key's alone
        Registration created = await(daemon.register("revs", "r:1", Map.of("v", "1")));
        assertEquals(Outcome.CREATED, created.outcome());
        assertHeldAsStored(daemon, created);
        Registration updated = await(daemon.register("revs", "r:1", Map.of("v", "2")));
        assertEquals(Outcome.UPDATED, updated.outcome());
        assertEquals(created.instance().created(), updated.instance().created());
        assertHeldAsStored(daemon, updated);
    }

    private void assertHeldAsStored(EtcdBackend daemon, Registration r) throws Exception {
        String name = r.instance().name();
        String addr = r.instance().addr();
        io.etcd.jetcd.KeyValue stored = probe.getKVClient().get(ByteSequence.from(daemon.key(name, addr), StandardCharsets.UTF_8))
                .get(10, TimeUnit.SECONDS).getKvs().get(0);
        EtcdBackend.Held held = daemon.held(name, addr);
        assertEquals(stored.getCreateRevision(), r.instance().created(), "created");
        assertEquals(stored.getCreateRevision(), held.created(), "remembered created");
        assertEquals(stored.getModRevision(), held.modRevision(), "remembered mod revision");
        assertEquals(stored.getLease(), held.lease(), "remembered lease");
    }

    /**
     * DiscoveryBackend#drain: every instance registered through the drained daemon goes offline, also
     * those whose Register was under way when the drain began (each either fails or is revoked):
     * afterwards the store holds none of them.
     */
    @Test
    void drain_racingRegistrations_leavesNoneOfThemBehind() throws Exception {
        DiscoveryBackend drained = backend(Duration.ofSeconds(30));
        DiscoveryBackend peer = backend(Duration.ofSeconds(30));
        await(drained.register("race", "settled:1", null));
        List<java.util.concurrent.CompletableFuture<Registration>> racing = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            racing.add(drained.register("race", "10.9.0." + i + ":80", Map.of("i", "" + i)).toCompletableFuture());
        }
        await(drained.drain());
        for (var r : racing) {
            r.handle((v, e) -> null).get(TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        }
        RecordingListener l = new RecordingListener();
        peer.subscribe("race", l);
        assertEquals(List.of(), l.awaitCurrent(TIMEOUT), "instances of the drained daemon left in the store");
        assertEquals(java.util.Optional.empty(), await(peer.leader("race")));
    }
}
