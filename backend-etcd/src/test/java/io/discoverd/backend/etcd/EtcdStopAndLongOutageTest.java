package io.discoverd.backend.etcd;

import static io.discoverd.backend.etcd.EtcdTests.TIMEOUT;
import static io.discoverd.backend.etcd.EtcdTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.Registration;
import io.discoverd.backend.contract.RecordingListener;
import io.discoverd.backend.contract.RecordingListener.Event;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * What a daemon stop and a long etcd outage do to registrations (README, "How the two stores
 * differ"): a stop refreshes the leases of the daemon's instances, so a restart shorter than the TTL
 * is invisible; after a long outage the daemon is back within about a probe interval of etcd's
 * return, not after gRPC's reconnect backoff (which grows to 2 minutes).
 */
class EtcdStopAndLongOutageTest extends EtcdTestBase {

    private static final Duration TTL = Duration.ofSeconds(2);

    /** Lets time pass: what these tests are about. */
    private static void pause(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        for (long left; (left = end - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left);
        }
    }

    @Test
    void stop_refreshesItsInstancesLeases_soTheyOutliveTheirLastHeartbeatByAFullTtlFromTheStop() throws Exception {
        DiscoveryBackend daemon = backend(TTL);
        DiscoveryBackend peer = backend(Duration.ofSeconds(60));
        Registration r = await(daemon.register("stop", "x:1", null));
        RecordingListener l = new RecordingListener();
        peer.subscribe("stop", l);
        assertEquals(1, l.awaitCurrent(TIMEOUT).size());

        pause(TTL.multipliedBy(3).dividedBy(4));
        long stopped = System.nanoTime();
        await(daemon.close()); // a daemon stop, 1.5 s after the instance's only heartbeat
        pause(TTL.multipliedBy(3).dividedBy(4)); // 3 s after that heartbeat: past its TTL, not past the stop's

        RecordingListener again = new RecordingListener();
        peer.subscribe("stop", again);
        assertEquals(1, again.awaitCurrent(TIMEOUT).size(), "the instance outlived its TTL from the last heartbeat");
        assertFalse(l.sawLive("x:1"), l.events().toString());
        Event off = l.awaitOffline(TIMEOUT, "x:1");
        long sinceStop = off.atNanos() - stopped;
        assertTrue(sinceStop >= TTL.toNanos(), "expired " + TimeUnit.NANOSECONDS.toMillis(sinceStop) + " ms after the stop");
        assertTrue(sinceStop <= TTL.plusMillis(1500).toNanos(), "expired " + TimeUnit.NANOSECONDS.toMillis(sinceStop) + " ms after the stop");
        assertTrue(r.instance().created() > 0);
    }

    @Test
    void afterALongOutage_theDaemonIsBackWithinSecondsOfEtcd() throws Exception {
        DiscoveryBackend daemon = backend(Duration.ofSeconds(60));
        await(daemon.register("long", "x:1", null));
        etcd.stop();
        EtcdTests.waitFor(TIMEOUT, "the daemon to see etcd gone", () -> !daemon.isConnected());
        // gRPC's reconnect backoff (1 s, x1.6 each attempt) has grown past 10 s by now: without the
        // backoff reset, the next attempt would come 10-20 s after etcd is back.
        pause(Duration.ofSeconds(30));
        etcd.start();
        etcd.awaitReady();
        long back = System.nanoTime();
        EtcdTests.waitFor(Duration.ofSeconds(4), "the daemon to reconnect within 4 s of etcd's return", daemon::isConnected);
        Registration hb = await(daemon.register("long", "x:1", null));
        assertEquals(Registration.Outcome.REFRESHED, hb.outcome(), "etcd kept the lease through the outage: " + hb);
        assertTrue(System.nanoTime() - back < TimeUnit.SECONDS.toNanos(8));
    }
}
