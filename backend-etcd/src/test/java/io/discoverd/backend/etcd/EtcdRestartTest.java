package io.discoverd.backend.etcd;

import static io.discoverd.backend.etcd.EtcdTests.TIMEOUT;
import static io.discoverd.backend.etcd.EtcdTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.Instance;
import io.discoverd.backend.Registration;
import io.discoverd.backend.Registration.Outcome;
import io.discoverd.backend.contract.RecordingListener;
import io.discoverd.backend.contract.RecordingListener.Event;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A daemon restart on etcd (ARCHITECTURE.md "Liveness", PROTOCOL.md §5.6): the registrations live in
 * etcd leases, so a backend closed (daemon stop) and a new one created on the same store (daemon
 * start) keeps every instance online with the same {@code created}; heartbeats reaching the new
 * backend refresh the same lease, and an instance whose heartbeats stop expires after its TTL.
 */
class EtcdRestartTest extends EtcdTestBase {

    private static final Duration TTL = Duration.ofSeconds(2);

    @Test
    void restart_keepsInstancesOnline_withTheirCreated_andUnheartbeatedOnesExpireAfterTheTtl() throws Exception {
        DiscoveryBackend first = backend(TTL);
        DiscoveryBackend peer = backend(Duration.ofSeconds(60));
        Registration kept = await(first.register("rs", "kept:1", Map.of("v", "1")));
        Registration attrsChange = await(first.register("rs", "changed:1", null));
        long droppedStart = System.nanoTime();
        Registration dropped = await(first.register("rs", "dropped:1", null));
        long droppedEnd = System.nanoTime();
        Registration other = await(peer.register("rs", "other:1", null));
        RecordingListener atPeer = new RecordingListener();
        peer.subscribe("rs", atPeer);
        assertEquals(4, atPeer.awaitCurrent(TIMEOUT).size());

        await(first.close()); // a daemon stop
        DiscoveryBackend second = backend(TTL); // the daemon starts again on the same store

        Registration hb = await(second.register("rs", "kept:1", Map.of("v", "1")));
        assertEquals(Outcome.REFRESHED, hb.outcome(), "a heartbeat at the restarted daemon refreshes: " + hb);
        assertEquals(kept.instance().created(), hb.instance().created(), "same created after the restart");
        Registration upd = await(second.register("rs", "changed:1", Map.of("v", "2")));
        assertEquals(Outcome.UPDATED, upd.outcome());
        assertEquals(attrsChange.instance().created(), upd.instance().created(), "an attrs change keeps created");
        assertEquals(kept.instance(), await(second.leader("rs")).orElseThrow(), "same leader through the restarted daemon");

        RecordingListener atSecond = new RecordingListener();
        second.subscribe("rs", atSecond);
        Set<Instance> expected = Set.of(kept.instance(), new Instance("rs", "changed:1", Map.of("v", "2"), attrsChange.instance().created()),
                dropped.instance(), other.instance());
        assertEquals(expected, atSecond.awaitCurrent(TIMEOUT).stream()
                .map(e -> new Instance(e.name(), e.addr(), e.attrs(), e.created())).collect(Collectors.toSet()));

        // kept:1 and changed:1 go on heartbeating at the new daemon; dropped:1 gets none after its registration.
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!atPeer.sawLive("dropped:1")) {
            assertTrue(System.nanoTime() < deadline, "dropped:1 never expired");
            for (String addr : new String[] {"kept:1", "changed:1"}) {
                Registration r = await(second.register("rs", addr, addr.equals("kept:1") ? Map.of("v", "1") : Map.of("v", "2")));
                assertEquals(Outcome.REFRESHED, r.outcome(), r.toString());
            }
            Thread.sleep(200); // the clients' heartbeat pace (TTL/10), not a wait for a condition
        }
        Event off = atPeer.awaitOffline(TIMEOUT, "dropped:1");
        long sinceStart = off.atNanos() - droppedStart;
        long sinceEnd = off.atNanos() - droppedEnd;
        assertTrue(sinceStart >= TTL.toNanos(), "expired " + TimeUnit.NANOSECONDS.toMillis(sinceStart)
                + " ms after its only registration began: before the TTL");
        assertTrue(sinceEnd <= TTL.toNanos() + TimeUnit.MILLISECONDS.toNanos(1500), "expired "
                + TimeUnit.NANOSECONDS.toMillis(sinceEnd) + " ms after its registration: later than TTL + 1.5 s");
        atSecond.awaitOffline(TIMEOUT, "dropped:1");

        // The peer saw the attrs change (same created) and the expiry, nothing else: nobody went offline at the restart.
        List<String> live = atPeer.live().stream().map(Event::shape).toList();
        assertEquals(List.of("online(changed:1, {v=2}, " + attrsChange.instance().created() + ")", "offline(dropped:1)"), live,
                atPeer.events().toString());
        assertEquals(List.of("offline(dropped:1)"), atSecond.live().stream().map(Event::shape).toList());
        atPeer.assertNoViolations();
        atSecond.assertNoViolations();
    }

    /** A daemon that never heartbeats again after a restart: its instance expires; the next Register creates it anew. */
    @Test
    void afterExpiry_theNextRegister_createsTheInstanceAgain_withANewerCreated() throws Exception {
        DiscoveryBackend first = backend(TTL);
        Registration gone = await(first.register("rx", "gone:1", null));
        RecordingListener l = new RecordingListener();
        DiscoveryBackend watcher = backend(Duration.ofSeconds(60));
        watcher.subscribe("rx", l);
        l.awaitCurrent(TIMEOUT);
        await(first.close());
        DiscoveryBackend second = backend(TTL);
        l.awaitOffline(TIMEOUT, "gone:1");
        Registration back = await(second.register("rx", "gone:1", null));
        assertEquals(Outcome.CREATED, back.outcome());
        assertTrue(back.instance().created() > gone.instance().created(), "created never reused: " + back + " after " + gone);
        assertEquals(back.instance().created(), l.awaitOnline(TIMEOUT, "gone:1").created());
    }
}
