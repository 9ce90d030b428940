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
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

/**
 * Replays of the gob captures in {@code testdata/wire} against a packaged daemon on each store: the
 * client bytes go out verbatim and Go's {@code encoding/gob} compares the daemon's answers by value
 * with the original's recorded ones (PROTOCOL.md §8; testdata/wire/README.md).
 *
 * <p>The captures all use the service name {@code web}, so the replays share one daemon but run
 * one after another, each starting by unregistering whatever {@code web} still holds (the Go
 * client's {@code -clean}, on by default): every replay sees an empty {@code web} service.
 */
@Execution(ExecutionMode.SAME_THREAD)
@EachBackend
class GobReplayTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;
    private static StoreAndDaemon env;
    private static DaemonProcess daemon;

    @BeforeParameterizedClassInvocation
    static void startDaemon(Backend backend) throws Exception {
        env = StoreAndDaemon.start(backend, tmp, "");
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

    private static void replay(String capture, String items, String... flags) throws Exception {
        String[] args = new String[4 + flags.length];
        args[0] = "replay";
        args[1] = "-addr=" + daemon.address();
        args[2] = "-file";
        args[3] = GoClient.CAPTURES.resolve(capture).toString();
        System.arraycopy(flags, 0, args, 4, flags.length);
        StringBuilder label = new StringBuilder("replay " + capture);
        for (String f : flags) {
            label.append(f.equals("-renumber") ? " renumbered" : f.equals("-onewrite") ? " one-write" : "");
        }
        GoClient.assertPassed(GoClient.run(TIMEOUT, args), label.toString(), items, daemon.output());
    }

    @Test
    @DisplayName("replay gob-register.txt [#10]")
    void replaysRegister() throws Exception {
        replay("gob-register.txt", "[#10]");
    }

    @Test
    @DisplayName("replay gob-register-error.txt [#11]")
    void replaysRegisterError() throws Exception {
        replay("gob-register-error.txt", "[#11]");
    }

    @Test
    @DisplayName("replay gob-subscribe.txt [#29 #31 #32]")
    void replaysSubscribe() throws Exception {
        replay("gob-subscribe.txt", "[#29 #31 #32]");
    }

    @Test
    @DisplayName("replay gob-unregister.txt [#27 #28 #34]")
    void replaysUnregister() throws Exception {
        replay("gob-unregister.txt", "[#27 #28 #34]");
    }

    @Test
    @DisplayName("replay gob-closestream.txt [#38]")
    void replaysCloseStream() throws Exception {
        replay("gob-closestream.txt", "[#38]");
    }

    @Test
    @DisplayName("replay gob-unknown-method.txt [#12 #13]")
    void replaysUnknownMethod() throws Exception {
        replay("gob-unknown-method.txt", "[#12 #13]");
    }

    @Test
    @DisplayName("replay gob-session.txt [#10 #11 #12 #13 #27 #28 #29 #31 #32 #34 #38]")
    void replaysWholeSession() throws Exception {
        replay("gob-session.txt", "[#10 #11 #12 #13 #27 #28 #29 #31 #32 #34 #38]");
    }

    @Test
    @DisplayName("replay gob-register.txt with the client's type ids renumbered 65→300, 66→77, 67→1000 [#14]")
    void replaysRegisterWithRenumberedTypeIds() throws Exception {
        replay("gob-register.txt", "[#10 #14]", "-renumber");
    }

    @Test
    @DisplayName("replay gob-session.txt with the client's type ids renumbered [#14]")
    void replaysSessionWithRenumberedTypeIds() throws Exception {
        replay("gob-session.txt", "[#10 #11 #12 #13 #27 #28 #29 #31 #32 #34 #38 #14]", "-renumber");
    }

    @Test
    @DisplayName("replay gob-register.txt with CONNECT and the first request in one write [#9]")
    void replaysRegisterWithConnectAndFirstRequestInOneWrite() throws Exception {
        replay("gob-register.txt", "[#10 #9]", "-onewrite");
    }

    @Test
    @DisplayName("replay gob-subscribe.txt renumbered, CONNECT and the first request in one write [#9 #14]")
    void replaysSubscribeRenumberedInOneWrite() throws Exception {
        replay("gob-subscribe.txt", "[#29 #31 #32 #14 #9]", "-renumber", "-onewrite");
    }
}
