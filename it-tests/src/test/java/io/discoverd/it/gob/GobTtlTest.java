package io.discoverd.it.gob;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.EachBackend;
import io.discoverd.it.StoreAndDaemon;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

/**
 * Registration lifetime in gob against a daemon configured with a short {@code registrationTtl}
 * (2 s instead of 10 s, so that PROTOCOL.md §8 #36, #37 and #40 run in seconds; the rules are
 * stated relative to the TTL in §5.6).
 */
@EachBackend
class GobTtlTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    private static final String TTL = "2s";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;
    private static StoreAndDaemon env;
    private static DaemonProcess daemon;

    @BeforeParameterizedClassInvocation
    static void startDaemon(Backend backend) throws Exception {
        env = StoreAndDaemon.start(backend, tmp, "registrationTtl: " + TTL);
        daemon = env.daemon();
    }

    @AfterParameterizedClassInvocation
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @AfterEach
    void daemonStillRuns() {
        assertTrue(daemon.isAlive(), () -> "the daemon died:\n" + daemon.output());
    }

    private static void scenario(String name, String items) throws Exception {
        GoClient.Result r = GoClient.run(TIMEOUT, name, "-addr=" + daemon.address(), "-ttl=" + TTL);
        GoClient.assertPassed(r, name, items, daemon.output());
    }

    @Test
    @DisplayName("without heartbeats an instance goes offline no sooner than the TTL and within TTL+1s; registered again it gets a larger Created [#36]")
    void instanceExpiresAfterTheTtlAndComesBackNewer() throws Exception {
        scenario("ttl-expiry", "[#36]");
    }

    @Test
    @DisplayName("heartbeats every TTL/2 for 3×TTL keep the instance online with no items and a constant Created [#37]")
    void heartbeatsKeepTheInstanceOnline() throws Exception {
        scenario("heartbeat-keeps-alive", "[#37]");
    }

    @Test
    @DisplayName("a client vanishing with open streams: the daemon keeps serving; its registration stays until the TTL [#40]")
    void vanishingClientLeavesRegistrationsUntilTheirTtl() throws Exception {
        scenario("client-vanishes", "[#40]");
    }
}
