package io.discoverd.it.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/discoverd} client subcommands that fail before any daemon could answer: no daemon
 * listening (exit 4), invalid flags or daemon address (exit 2). Nothing here depends on a store,
 * so the class runs once, without one.
 */
class CommandLineUsageTest {

    private static void assertOneLineFailure(Cli.Result r, int exit, String stderrPrefix) {
        assertEquals(exit, r.exit(), r::toString);
        assertEquals("", r.stdout(), () -> "nothing on stdout: " + r);
        assertEquals(1, r.stderrLines().size(), () -> "one line on stderr: " + r);
        assertTrue(r.stderr().startsWith(stderrPrefix), () -> "stderr should start with '" + stderrPrefix + "': " + r);
    }

    @Test
    @DisplayName("issue 5 CLI: daemon down: services, register and watch exit 4 with one stderr line naming the daemon and nothing on stdout")
    void daemonDownIsExit4() throws Exception {
        String dead = "127.0.0.1:" + CommandLineProcessTest.freePort();
        for (List<String> args : List.of(List.of("services", "x"), List.of("register", "--name", "x", "--addr", ":1"), List.of("watch", "x"))) {
            String[] full = java.util.stream.Stream.concat(args.stream(), java.util.stream.Stream.of("--discoverd", dead)).toArray(String[]::new);
            assertOneLineFailure(Cli.run(full), 4, "discoverd: cannot reach the daemon at " + dead + ": ");
        }
    }

    @Test
    @DisplayName("issue 5 CLI: bad flags exit 2 with nothing on stdout: a missing required option or parameter, an unknown option, a malformed --discoverd or DISCOVERD")
    void badFlagsAreExit2() throws Exception {
        for (String[] args : List.of(new String[] {"register", "--name", "x"}, new String[] {"services"}, new String[] {"leader", "x", "--bogus"})) {
            Cli.Result r = Cli.run(args);
            assertEquals(2, r.exit(), r::toString);
            assertEquals("", r.stdout(), () -> "nothing on stdout: " + r);
            assertTrue(!r.stderr().isEmpty(), () -> "a usage message on stderr: " + r);
        }
        assertOneLineFailure(Cli.run("services", "x", "--discoverd", "no-port-here"), 2,
                "discoverd: invalid daemon address (--discoverd or DISCOVERD): ");
        assertOneLineFailure(Cli.run(Map.of("DISCOVERD", "tcp://host:notaport"), "services", "x"), 2,
                "discoverd: invalid daemon address (--discoverd or DISCOVERD): ");
    }

    @Test
    @DisplayName("issue 5 CLI, §9.15: without --discoverd and DISCOVERD the command line uses 127.0.0.1:1111 (checked when nothing listens there)")
    void defaultDaemonAddress() throws Exception {
        assumeTrue(nothingListensOn1111(), "something listens on 127.0.0.1:1111 on this host");
        assertOneLineFailure(Cli.run("services", "x"), 4, "discoverd: cannot reach the daemon at 127.0.0.1:1111: ");
    }

    private static boolean nothingListensOn1111() throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", 1111), 1000);
            return false;
        } catch (ConnectException e) {
            return true;
        }
    }
}
