package io.discoverd.it.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.discoverd.client.DiscoverdClient;
import io.discoverd.client.ServiceInstance;
import io.discoverd.client.ServiceSet;
import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.EachBackend;
import io.discoverd.it.StoreAndDaemon;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

/**
 * Every client subcommand of {@code bin/discoverd} run as a process against a real daemon (issue 5,
 * README "The command line"): exact stdout, stderr and exit statuses. The daemon's registration TTL
 * is 7 s, above the command line's 5 s heartbeat, so that a held {@code register} is shown to
 * outlive the TTL in 8.5 s rather than 12. Observation and set-up go through the Java client, so
 * that the number of JVMs started stays small.
 */
@EachBackend
class CommandLineProcessTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    private static final Duration TTL = Duration.ofSeconds(7);
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    static Path tmp;
    private static StoreAndDaemon env;
    private static DaemonProcess daemon;
    private static String addr;

    @BeforeParameterizedClassInvocation
    static void startDaemon(Backend backend) throws Exception {
        env = StoreAndDaemon.start(backend, tmp, "registrationTtl: " + TTL.toSeconds() + "s");
        daemon = env.daemon();
        addr = daemon.address();
    }

    @AfterParameterizedClassInvocation
    static void stopDaemon() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @AfterEach
    void daemonStillRuns() {
        assertTrue(daemon.isAlive(), () -> "the daemon died:\n" + daemon.output());
    }

    private static DiscoverdClient client() throws Exception {
        return DiscoverdClient.builder().address(addr).heartbeatInterval(Duration.ofSeconds(1)).build();
    }

    private static long created(DiscoverdClient c, String name, String address) throws Exception {
        return c.services(name).stream().filter(i -> i.addr().equals(address)).findFirst()
                .orElseThrow(() -> new AssertionError(address + " not in " + name)).created();
    }

    static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + WAIT + ": " + what);
            }
            Thread.sleep(10); // polling a condition that has no listener of its own
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Asserts a finished command's exit status, exact stdout and exact stderr. */
    static void assertRun(Cli.Result r, int exit, String stdout, String stderr) {
        assertEquals(exit, r.exit(), r::toString);
        assertEquals(stdout, r.stdout(), () -> "stdout of " + r);
        assertEquals(stderr, r.stderr(), () -> "stderr of " + r);
    }

    @Test
    @DisplayName("issue 5 CLI, §9.1/§9.5/§9.16: register prints the expanded address and holds the instance (seen by a subscriber, alive past the TTL, same Created); "
            + "services prints the exact table and --json, leader the oldest, nothing else on stdout; SIGTERM and SIGINT: exit 0, offline at once")
    void registerHoldsServicesListsSignalsUnregister() throws Exception {
        String n = "web";
        try (DiscoverdClient client = client(); ServiceSet set = client.serviceSet(n);
             Cli.Held r1 = Cli.start("register", "--discoverd", addr, "--name", n, "--addr", ":8080", "--attr", "zone=a");
             Cli.Held r2 = Cli.start("register", "--discoverd", addr, "--name", n, "--addr", "127.0.0.1:8081", "--attr", "zone=b",
                     "--attr", "version=1.2")) {
            assertEquals("127.0.0.1:8080", r1.nextLine());
            assertEquals("127.0.0.1:8081", r2.nextLine());
            long registered = System.nanoTime();
            awaitTrue("both registrations seen by a subscriber", () -> set.services().size() == 2);
            List<ServiceInstance> seen = java.util.Collections.synchronizedList(new ArrayList<>());
            set.watch(false, seen::add); // from now on: no update until the signals, then two offline ones
            List<ServiceInstance> both = set.services();
            assertEquals(Map.of("zone", "a"), both.stream().filter(i -> i.addr().equals("127.0.0.1:8080")).findFirst().orElseThrow().attrs());
            assertEquals(Map.of("version", "1.2", "zone", "b"),
                    both.stream().filter(i -> i.addr().equals("127.0.0.1:8081")).findFirst().orElseThrow().attrs());
            long c80 = created(client, n, "127.0.0.1:8080");
            long c81 = created(client, n, "127.0.0.1:8081");
            // The two were registered concurrently: the table is oldest first, whichever that is.
            String first = c80 < c81 ? "127.0.0.1:8080" : "127.0.0.1:8081";
            String[][] rows = c80 < c81
                    ? new String[][] {{"127.0.0.1:8080", Long.toString(c80), "zone=a"}, {"127.0.0.1:8081", Long.toString(c81), "version=1.2,zone=b"}}
                    : new String[][] {{"127.0.0.1:8081", Long.toString(c81), "version=1.2,zone=b"}, {"127.0.0.1:8080", Long.toString(c80), "zone=a"}};
            int w = Math.max("CREATED".length(), Math.max(rows[0][1].length(), rows[1][1].length()));
            String fmt = "%-14s  %-" + w + "s  %s\n";
            String table = String.format(fmt, "ADDR", "CREATED", "ATTRS") + String.format(fmt, (Object[]) rows[0])
                    + String.format(fmt, (Object[]) rows[1]);
            assertRun(Cli.run("services", n, "--discoverd", addr), 0, table, "");
            String json80 = "{\"name\":\"web\",\"addr\":\"127.0.0.1:8080\",\"attrs\":{\"zone\":\"a\"},\"created\":" + c80 + "}";
            String json81 = "{\"name\":\"web\",\"addr\":\"127.0.0.1:8081\",\"attrs\":{\"version\":\"1.2\",\"zone\":\"b\"},\"created\":" + c81 + "}";
            assertRun(Cli.run("services", n, "--json", "--discoverd", addr), 0,
                    "[\n  " + (c80 < c81 ? json80 + ",\n  " + json81 : json81 + ",\n  " + json80) + "\n]\n", "");
            assertRun(Cli.run("leader", n, "--discoverd", addr), 0,
                    first + " created=" + Math.min(c80, c81) + " " + (c80 < c81 ? "zone=a" : "version=1.2,zone=b") + "\n", "");

            long left = registered + TTL.toNanos() + TimeUnit.MILLISECONDS.toNanos(1500) - System.nanoTime();
            if (left > 0) {
                Thread.sleep(TimeUnit.NANOSECONDS.toMillis(left)); // on purpose: the TTL passes while register heartbeats
            }
            assertEquals(List.of(), List.copyOf(seen), "no update while the registrations are held past the TTL");
            assertEquals(c80, created(client, n, "127.0.0.1:8080"));
            assertEquals(c81, created(client, n, "127.0.0.1:8081"));

            assertEquals(0, r1.signal("TERM"), r1::toString);
            assertEquals(List.of("127.0.0.1:8081"), addrs(client.services(n)), "unregistered before register exited (read-your-writes)");
            assertEquals(List.of("127.0.0.1:8080"), r1.stdout());
            assertEquals(List.of("discoverd: unregistered web 127.0.0.1:8080"), r1.stderr());
            assertEquals(0, r2.signal("INT"), r2::toString);
            assertEquals(List.of(), client.services(n));
            assertEquals(List.of("127.0.0.1:8081"), r2.stdout());
            assertEquals(List.of("discoverd: unregistered web 127.0.0.1:8081"), r2.stderr());
            awaitTrue("both offline updates reach the subscriber", () -> seen.size() == 2);
            assertTrue(seen.stream().noneMatch(ServiceInstance::online), seen::toString);
        }
    }

    private static List<String> addrs(List<ServiceInstance> instances) {
        return instances.stream().map(ServiceInstance::addr).toList();
    }

    @Test
    @DisplayName("issue 5 CLI, §9.11 and §9.7 through the command line: leader --follow prints 1111, (no leader), 2222, 3333, (no leader); watch prints the snapshot then "
            + "each change (also --json); leader exits 3 with no leader; unregister prints nothing, and exits 3 for an unknown instance; SIGTERM/SIGINT exit 0")
    void watchLeaderFollowLeaderUnregister() throws Exception {
        String n = "lw";
        try (DiscoverdClient client = client()) {
            client.register(n, ":1111");
            long c1 = created(client, n, "127.0.0.1:1111");
            try (Cli.Held watch = Cli.start("watch", n, "--discoverd", addr);
                 Cli.Held watchJson = Cli.start("watch", n, "--json", "--discoverd", addr);
                 Cli.Held follow = Cli.start("leader", n, "--follow", "--discoverd", addr)) {
                assertEquals("online  127.0.0.1:1111 created=" + c1, watch.nextLine());
                assertEquals("{\"name\":\"lw\",\"addr\":\"127.0.0.1:1111\",\"online\":true,\"attrs\":null,\"created\":" + c1 + "}", watchJson.nextLine());
                assertEquals("127.0.0.1:1111 created=" + c1, follow.nextLine());

                client.unregister(n, ":1111");
                assertEquals("(no leader)", follow.nextLine());
                assertEquals("offline 127.0.0.1:1111 created=" + c1, watch.nextLine());
                assertRun(Cli.run("leader", n, "--discoverd", addr), 3, "", "discoverd: no leader for lw: it has no online instance\n");

                try (DiscoverdClient gone = client()) {
                    // closed at once: no heartbeat of this client re-creates :2222 after the command line unregisters it
                    gone.register(n, ":2222", Map.of("note", "a b"));
                }
                long c2 = created(client, n, "127.0.0.1:2222");
                assertEquals("127.0.0.1:2222 created=" + c2 + " note=\"a b\"", follow.nextLine());
                assertEquals("online  127.0.0.1:2222 created=" + c2 + " note=\"a b\"", watch.nextLine());
                client.register(n, ":3333");
                long c3 = created(client, n, "127.0.0.1:3333");
                assertEquals("online  127.0.0.1:3333 created=" + c3, watch.nextLine());
                assertRun(Cli.run("unregister", "--name", n, "--addr", "127.0.0.1:2222", "--discoverd", addr), 0, "", "");
                assertEquals("127.0.0.1:3333 created=" + c3, follow.nextLine(), "registering :3333 did not change the leader; unregistering :2222 did");
                assertEquals("offline 127.0.0.1:2222 created=" + c2 + " note=\"a b\"", watch.nextLine());

                Cli.Result unknown = Cli.run("unregister", "--name", n, "--addr", "127.0.0.1:2222", "--discoverd", addr);
                assertEquals(3, unknown.exit(), unknown::toString);
                assertEquals("", unknown.stdout(), unknown::toString);
                assertEquals(1, unknown.stderrLines().size(), unknown::toString);
                assertTrue(unknown.stderr().startsWith("discoverd: no instance lw 127.0.0.1:2222 to unregister (the daemon said: 100: Key not found ("),
                        unknown::toString);
                assertRun(Cli.run("leader", n, "--json", "--discoverd", addr), 0,
                        "{\"name\":\"lw\",\"addr\":\"127.0.0.1:3333\",\"attrs\":null,\"created\":" + c3 + "}\n", "");

                client.unregister(n, ":3333");
                assertEquals("(no leader)", follow.nextLine());
                assertEquals("offline 127.0.0.1:3333 created=" + c3, watch.nextLine());
                awaitTrue("watch --json printed its sixth line", () -> watchJson.stdout().size() >= 6);

                assertEquals(0, watch.signal("TERM"), watch::toString);
                assertEquals(0, watchJson.signal("TERM"), watchJson::toString);
                assertEquals(0, follow.signal("INT"), follow::toString);
                assertEquals(List.of("online  127.0.0.1:1111 created=" + c1, "offline 127.0.0.1:1111 created=" + c1,
                        "online  127.0.0.1:2222 created=" + c2 + " note=\"a b\"", "online  127.0.0.1:3333 created=" + c3,
                        "offline 127.0.0.1:2222 created=" + c2 + " note=\"a b\"", "offline 127.0.0.1:3333 created=" + c3), watch.stdout());
                assertEquals(List.of("127.0.0.1:1111 created=" + c1, "(no leader)", "127.0.0.1:2222 created=" + c2 + " note=\"a b\"",
                        "127.0.0.1:3333 created=" + c3, "(no leader)"), follow.stdout());
                String j = "{\"name\":\"lw\",\"addr\":\"127.0.0.1:";
                assertEquals(List.of(j + "1111\",\"online\":true,\"attrs\":null,\"created\":" + c1 + "}",
                        j + "1111\",\"online\":false,\"attrs\":null,\"created\":" + c1 + "}",
                        j + "2222\",\"online\":true,\"attrs\":{\"note\":\"a b\"},\"created\":" + c2 + "}",
                        j + "3333\",\"online\":true,\"attrs\":null,\"created\":" + c3 + "}",
                        j + "2222\",\"online\":false,\"attrs\":{\"note\":\"a b\"},\"created\":" + c2 + "}",
                        j + "3333\",\"online\":false,\"attrs\":null,\"created\":" + c3 + "}"), watchJson.stdout());
                for (Cli.Held h : List.of(watch, watchJson, follow)) {
                    assertEquals(List.of(), h.stderr(), h::toString);
                }
            }
        }
    }

    @Test
    @DisplayName("issue 5 CLI, §9.15 the daemon address: --discoverd over DISCOVERD (tcp:// prefix allowed) over the default; an unreachable DISCOVERD is exit 4 "
            + "naming it; a daemon error (empty --addr) is exit 1 with its text")
    void addressPrecedenceAndDaemonErrors() throws Exception {
        String n = "pick";
        String dead = "127.0.0.1:" + freePort();
        try (DiscoverdClient client = client()) {
            client.register(n, ":7777");
            long c = created(client, n, "127.0.0.1:7777");
            String table = String.format("%-14s  %-" + Math.max(7, Long.toString(c).length()) + "s  %s\n", "ADDR", "CREATED", "ATTRS")
                    + String.format("%-14s  %-" + Math.max(7, Long.toString(c).length()) + "s  %s\n", "127.0.0.1:7777", c, "-");
            assertRun(Cli.run(Map.of("DISCOVERD", dead), "services", n, "--discoverd", addr), 0, table, "");
            assertRun(Cli.run(Map.of("DISCOVERD", "tcp://" + addr), "services", n), 0, table, "");
            Cli.Result viaEnv = Cli.run(Map.of("DISCOVERD", dead), "services", n);
            assertEquals(4, viaEnv.exit(), viaEnv::toString);
            assertEquals("", viaEnv.stdout(), viaEnv::toString);
            assertEquals(1, viaEnv.stderrLines().size(), viaEnv::toString);
            assertTrue(viaEnv.stderr().startsWith("discoverd: cannot reach the daemon at " + dead + ": "), viaEnv::toString);
            assertRun(Cli.run("register", "--discoverd", addr, "--name", n, "--addr", ""), 1, "", "discoverd: Addr must be set\n");
            client.unregister(n, ":7777");
        }
    }

    @Test
    @DisplayName("issue 5 CLI, §5.11 drain --discoverd ADDR: exit 0, says on stderr it is draining and has stopped, and that daemon exits 0; the class's daemon keeps serving")
    void drainStopsTheDaemon() throws Exception {
        DaemonProcess drained = StoreAndDaemon.startDaemon(env.store(), tmp.resolve(backend.configName()).resolve("drained"),
                "registrationTtl: " + TTL.toSeconds() + "s");
        try {
            String a = drained.address();
            assertRun(Cli.run("drain", "--discoverd", a), 0, "", "discoverd drain: " + a + " is draining\ndiscoverd drain: " + a + " has stopped\n");
            awaitTrue("the drained daemon exits", () -> !drained.isAlive());
            assertEquals(0, drained.stop(), drained::output);
            assertFalse(drained.isAlive());
        } finally {
            drained.close();
        }
    }
}
