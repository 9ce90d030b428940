package io.discoverd.it.outage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.discoverd.it.Backend;
import io.discoverd.it.OnlyOn;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.json.JsonRpcClient.Msg;
import io.discoverd.it.json.JsonRpcClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ZooKeeper server goes away under a running daemon and comes back (PROTOCOL.md §5.5.4, checklist
 * #44; ARCHITECTURE.md "Liveness", store unreachable). Owns its store, because it stops it.
 *
 * <p>ZooKeeper only: there a heartbeat at the owning daemon touches no store and succeeds during
 * the outage; on etcd a heartbeat is a lease keep-alive and fails like any other call
 * ({@link EtcdOutageTest}).
 */
@OnlyOn(Backend.ZOOKEEPER)
class ZooKeeperOutageTest {

    private static final String TTL = "3s";

    @TempDir
    static Path dir;
    static StoreAndDaemon env;

    @BeforeAll
    static void start() throws Exception {
        env = StoreAndDaemon.start(Backend.ZOOKEEPER, dir, "registrationTtl: " + TTL);
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @Test
    @DisplayName("#44 store outage under open streams: new calls fail fast with a clear error, a new Subscribe gets the "
            + "sentinel then an error frame, heartbeats keep their instance online past the TTL, and the open stream "
            + "resumes live delivery when the store returns (never silent, no offline for the heartbeating instance)")
    void storeOutage_streamsStayOpen_callsFailFast_heartbeatsHold_andDeliveryResumes() throws Exception {
        try (JsonRpcClient c = JsonRpcClient.connect(env.port())) {
            assertEquals("127.0.0.1:7001", c.register("outage", ":7001", null));
            List<JsonNode> snapshot = c.subscribe("outage", "watch");
            assertEquals(1, snapshot.size());
            long created = snapshot.get(0).get("Created").asLong();

            env.store().stop();
            long outageStart = System.nanoTime();

            // A new registration fails at once (not after Curator's retries) with the documented text.
            Msg refused = awaitError(c, "outage", ":7002");
            assertTrue(refused.error().startsWith("discoverd: store unavailable"), refused.raw());

            // A heartbeat at the owning daemon succeeds: it touches no store.
            Msg heartbeat = c.call("Agent.Register", JsonRpcClient.args("outage", ":7001", null));
            assertNull(heartbeat.error(), heartbeat.raw());

            // A new Subscribe is never left hanging: the sentinel, then a final frame that is not EOS.
            c.send("Agent.Subscribe", JsonRpcClient.args("outage", null, null), "late");
            Msg first = c.takeId("late");
            assertTrue(first.isSentinel(), first.raw());
            Msg last = c.takeId("late");
            assertNotNull(last.error(), last.raw());
            assertTrue(!"EOS".equals(last.error()) && last.error().startsWith("discoverd: store unavailable"), last.raw());

            // Keep heartbeating for longer than the TTL while the store is away.
            Duration ttl = Duration.ofSeconds(3);
            while (System.nanoTime() - outageStart < ttl.toNanos() + 1_000_000_000L) {
                Msg m = c.call("Agent.Register", JsonRpcClient.args("outage", ":7001", null));
                assertNull(m.error(), m.raw());
                Thread.sleep(500); // the heartbeat interval of this client (TTL / 6)
            }

            env.store().restart();

            // Once the store is back, registrations work again and reach the stream opened before the outage.
            Msg again = Outages.awaitAccepted(c, "outage", ":7002", Duration.ofSeconds(30));
            assertNull(again.error(), again.raw());
            Msg live = c.take(m -> m.hasId(JsonRpcClient.MAPPER.valueToTree("watch"))
                    && "127.0.0.1:7002".equals(m.result().path("Addr").asText()), Duration.ofSeconds(10), "live item for :7002");
            assertTrue(live.result().get("Online").asBoolean(), live.raw());

            // Nothing went offline on the stream, and the heartbeating instance kept its Created.
            List<Msg> rest = c.takeAllWithin(m -> m.hasId(JsonRpcClient.MAPPER.valueToTree("watch")), Duration.ofMillis(500));
            for (Msg m : rest) {
                assertTrue(m.result().get("Online").asBoolean(), "unexpected offline: " + m.raw());
            }
            Msg leader = c.call("Agent.Leader", JsonRpcClient.args("outage", null, null));
            assertEquals("127.0.0.1:7001", leader.result().get("Addr").asText(), leader.raw());
            assertEquals(created, leader.result().get("Created").asLong(), leader.raw());
        }
    }

    /**
     * Registers until the daemon has noticed the outage and refuses (a call already in flight when the
     * store went away may take the client library's retry time to fail), then checks that a call
     * made once the outage is known is refused at once.
     */
    private static Msg awaitError(JsonRpcClient c, String name, String addr) throws Exception {
        Outages.awaitFirstRefusal(c, name, addr, Duration.ofSeconds(30), accepted -> { });
        long sent = System.nanoTime();
        Msg known = c.call("Agent.Register", JsonRpcClient.args(name, addr, null));
        assertNotNull(known.error(), known.raw());
        assertTrue(System.nanoTime() - sent < Duration.ofSeconds(1).toNanos(), "the refusal was not fast: " + known.raw());
        return known;
    }
}
