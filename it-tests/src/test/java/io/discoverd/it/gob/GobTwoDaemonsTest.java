package io.discoverd.it.gob;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.EachBackend;
import io.discoverd.it.StoreAndDaemon;
import io.discoverd.it.TestStore;
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
 * Two daemons on one store, driven in gob (PROTOCOL.md §5.9, §8 #46, #47, #49). The TTL is
 * shortened to 4 s so that heartbeats through the other daemon are shown to span more than one TTL.
 */
@EachBackend
class GobTwoDaemonsTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    private static final String TTL = "4s";
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    static Path tmp;
    private static TestStore store;
    private static DaemonProcess a;
    private static DaemonProcess b;

    @BeforeParameterizedClassInvocation
    static void startDaemons(Backend backend) throws Exception {
        store = backend.startStore();
        Path dir = tmp.resolve(backend.configName());
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

    @AfterEach
    void daemonsStillRun() {
        assertTrue(a.isAlive(), () -> "daemon A died:\n" + a.output());
        assertTrue(b.isAlive(), () -> "daemon B died:\n" + b.output());
    }

    private static void scenario(String name, String items) throws Exception {
        GoClient.Result r = GoClient.run(TIMEOUT, name, "-addr=" + a.address(), "-addr2=" + b.address(), "-ttl=" + TTL);
        GoClient.assertPassed(r, name, items, "A:\n" + a.output() + "\nB:\n" + b.output());
    }

    @Test
    @DisplayName("register through A, subscribe through B: same Created; changes through either reach both; same leader on both; read-your-writes across daemons [#46 #49]")
    void registrationsAndChangesAreSharedAcrossDaemons() throws Exception {
        scenario("two-daemons", "[#46 #49]");
    }

    @Test
    @DisplayName("heartbeats through B keep an instance registered through A online for 2×TTL with the same Created and no items [#47]")
    void heartbeatsThroughTheOtherDaemonKeepTheInstance() throws Exception {
        scenario("two-daemons-heartbeat", "[#47]");
    }
}
