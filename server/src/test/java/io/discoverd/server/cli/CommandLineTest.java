package io.discoverd.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.client.DiscoverdClient;
import io.discoverd.client.DiscoverdException;
import io.discoverd.client.ServiceInstance;
import io.discoverd.server.Main;
import io.discoverd.server.testing.TestDaemon;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * The {@code discoverd} command line run in-process ({@link Main}, with captured stdout and stderr
 * and a manual stop signal standing in for SIGINT) against a real daemon on the in-memory backend:
 * every subcommand's exact output, and the exit statuses of {@link ExitCodes}.
 */
class CommandLineTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    static Path dataDir;

    private static TestDaemon daemon;
    private static String address;

    /** Registers the instances a test lists; each test has its own service name. */
    private DiscoverdClient client;
    private String name;

    @BeforeAll
    static void startDaemon() throws Exception {
        daemon = TestDaemon.start(dataDir);
        address = "127.0.0.1:" + daemon.port();
    }

    @AfterAll
    static void stopDaemon() {
        daemon.close();
    }

    @BeforeEach
    void connect(TestInfo test) throws Exception {
        client = DiscoverdClient.connect(address);
        name = test.getTestMethod().orElseThrow().getName();
    }

    @AfterEach
    void disconnect() {
        try {
            client.unregisterAll();
        } catch (DiscoverdException e) {
            // an instance the command line unregistered already
        }
        client.close();
    }

    // ---- services -------------------------------------------------------------------------------

    @Test
    void services_table_oldestFirst_headerAndAlignedColumns_attrsInKeyOrder_oddValuesQuoted() throws Exception {
        client.register(name, ":8081", Map.of("zone", "a", "rack", "r1"));
        client.register(name, ":18082", null);
        client.register(name, ":8083", Map.of("note", "a, b", "empty", ""));
        List<ServiceInstance> in = client.services(name);
        Run r = run("services", name);
        assertEquals(0, r.exit, r::toString);
        String c1 = created(in.get(0));
        String c2 = created(in.get(1));
        String c3 = created(in.get(2));
        int w = Math.max(7, Math.max(c1.length(), Math.max(c2.length(), c3.length())));
        String expected = String.format("%-15s  %-" + w + "s  %s%n", "ADDR", "CREATED", "ATTRS")
                + String.format("%-15s  %-" + w + "s  %s%n", "127.0.0.1:8081", c1, "rack=r1,zone=a")
                + String.format("%-15s  %-" + w + "s  %s%n", "127.0.0.1:18082", c2, "-")
                + String.format("%-15s  %-" + w + "s  %s%n", "127.0.0.1:8083", c3, "empty=\"\",note=\"a, b\"");
        assertEquals(expected, r.out);
        assertEquals("", r.err);
    }

    @Test
    void services_json_anArrayOfObjects_oneALine() throws Exception {
        client.register(name, ":8081", Map.of("zone", "a\"b"));
        client.register(name, ":8082", null);
        List<ServiceInstance> in = client.services(name);
        Run r = run("services", name, "--json");
        assertEquals(0, r.exit, r::toString);
        assertEquals("[\n"
                + "  {\"name\":\"" + name + "\",\"addr\":\"127.0.0.1:8081\",\"attrs\":{\"zone\":\"a\\\"b\"},\"created\":" + created(in.get(0)) + "},\n"
                + "  {\"name\":\"" + name + "\",\"addr\":\"127.0.0.1:8082\",\"attrs\":null,\"created\":" + created(in.get(1)) + "}\n"
                + "]\n", r.out);
        assertEquals("", r.err);
    }

    @Test
    void services_ofAServiceWithoutInstances_isTheHeaderAlone_aNoteOnStderr_exit0() {
        Run r = run("services", name);
        assertEquals(0, r.exit, r::toString);
        assertEquals("ADDR  CREATED  ATTRS\n", r.out);
        assertEquals("discoverd: no online instance of " + name + "\n", r.err);
    }

    @Test
    void services_json_ofAServiceWithoutInstances_isAnEmptyArray_exit0() {
        Run r = run("services", name, "--json");
        assertEquals(new Run(0, "[]\n", ""), r);
    }

    // ---- register / unregister --------------------------------------------------------------------

    @Test
    void register_printsTheExpandedAddress_holdsIt_andUnregistersOnTheStopSignal() throws Exception {
        Held h = start("register", "--name", name, "--addr", ":9001", "--attr", "zone=a", "--attr", "v=1=2", "--attr", "e=");
        h.awaitOut("127.0.0.1:9001\n");
        List<ServiceInstance> online = client.services(name);
        assertEquals(1, online.size());
        assertEquals(Map.of("zone", "a", "v", "1=2", "e", ""), online.get(0).attrs());
        Run r = h.stop();
        assertEquals(new Run(0, "127.0.0.1:9001\n", "discoverd: unregistered " + name + " 127.0.0.1:9001\n"), r);
        assertEquals(List.of(), client.services(name));
    }

    /**
     * Another client unregistered the instance, and the stop signal came before the next heartbeat
     * (≥ 4.5 s after the Register) put it back: it is offline as asked, so the command says so and
     * exits 0 instead of "could not unregister".
     */
    @Test
    void register_stoppedAfterSomeoneElseUnregisteredIt_saysItWasOffline_exit0() throws Exception {
        Held h = start("register", "--name", name, "--addr", ":9001");
        h.awaitOut("127.0.0.1:9001\n");
        client.unregister(name, "127.0.0.1:9001");
        Run r = h.stop();
        assertEquals(0, r.exit(), r.toString());
        assertEquals("127.0.0.1:9001\n", r.out());
        assertTrue(r.err().startsWith("discoverd: " + name + " 127.0.0.1:9001 was already offline"
                + " (the daemon said: 100: Key not found ("), r.err());
        assertEquals(List.of(), client.services(name));
    }

    @Test
    void register_whenTheDaemonGoesAway_saysSoOnStderr_andExit4WhenItCannotUnregister() throws Exception {
        TestDaemon other = TestDaemon.start(Files.createDirectories(dataDir.resolve("goes-away")));
        String at = "127.0.0.1:" + other.port();
        Held h = start(Map.of("DISCOVERD", at), "register", "--name", name, "--addr", ":9001");
        h.awaitOut("127.0.0.1:9001\n");
        other.close();
        String lost = "discoverd: lost the connection to the daemon at " + at + ", reconnecting\n";
        await(() -> h.err.toString().equals(lost), () -> "stderr " + lost);
        Run r = h.stop();
        assertEquals(new Run(4, "127.0.0.1:9001\n", lost + "discoverd: could not unregister " + name + " 127.0.0.1:9001 "
                + "(discoverd: lost the connection to the daemon at " + at + "); it goes offline when its registration expires\n"), r);
    }

    @Test
    void register_withoutAttrs_registersNone() throws Exception {
        Held h = start("register", "--name", name, "--addr", "10.0.0.7:80", "--discoverd", address);
        h.awaitOut("10.0.0.7:80\n");
        assertEquals(Map.of(), client.services(name).get(0).attrs());
        assertEquals(0, h.stop().exit);
    }

    @Test
    void register_refusedByTheDaemon_printsItsText_exit1() {
        Run r = run("register", "--name", name, "--addr", "");
        assertEquals(new Run(1, "", "discoverd: Addr must be set\n"), r);
    }

    @Test
    void unregister_takesTheInstanceOffline_printsNothing_exit0() throws Exception {
        client.register(name, ":8081", null);
        client.register(name, ":8082", null);
        assertEquals(new Run(0, "", ""), run("unregister", "--name", name, "--addr", "127.0.0.1:8081"));
        assertEquals(List.of("127.0.0.1:8082"), client.services(name).stream().map(ServiceInstance::addr).toList());
        // The unexpanded form names the same instance.
        assertEquals(new Run(0, "", ""), run("unregister", "--name", name, "--addr", ":8082"));
        assertEquals(List.of(), client.services(name));
    }

    @Test
    void unregister_ofAnUnknownInstance_exit3_withTheDaemonsText() {
        Run r = run("unregister", "--name", name, "--addr", "127.0.0.1:9");
        assertEquals(3, r.exit, r::toString);
        assertEquals("", r.out);
        assertTrue(r.err.startsWith("discoverd: no instance " + name + " 127.0.0.1:9 to unregister (the daemon said: 100: Key not found ("),
                r.err);
        assertTrue(r.err.endsWith(")\n") && r.err.lines().count() == 1, r.err);
    }

    // ---- watch ------------------------------------------------------------------------------------

    @Test
    void watch_printsTheCurrentInstancesThenEveryChange_untilTheStopSignal() throws Exception {
        client.register(name, ":8081", Map.of("zone", "a"));
        String c1 = created(client.services(name).get(0));
        Held h = start("watch", name);
        h.awaitOut("online  127.0.0.1:8081 created=" + c1 + " zone=a\n");
        client.register(name, ":8082", null);
        String c2 = created(client.services(name).get(1));
        h.awaitOut("online  127.0.0.1:8081 created=" + c1 + " zone=a\n"
                + "online  127.0.0.1:8082 created=" + c2 + "\n");
        client.register(name, ":8082", Map.of("zone", "b"));
        client.unregister(name, ":8081");
        String all = "online  127.0.0.1:8081 created=" + c1 + " zone=a\n"
                + "online  127.0.0.1:8082 created=" + c2 + "\n"
                + "online  127.0.0.1:8082 created=" + c2 + " zone=b\n"
                + "offline 127.0.0.1:8081 created=" + c1 + " zone=a\n";
        h.awaitOut(all);
        assertEquals(new Run(0, all, ""), h.stop());
    }

    @Test
    void watch_json_oneObjectPerLine_withOnline() throws Exception {
        client.register(name, ":8081", Map.of("zone", "a"));
        String c1 = created(client.services(name).get(0));
        Held h = start("watch", name, "--json");
        String online = "{\"name\":\"" + name + "\",\"addr\":\"127.0.0.1:8081\",\"online\":true,\"attrs\":{\"zone\":\"a\"},\"created\":" + c1 + "}\n";
        h.awaitOut(online);
        client.unregister(name, ":8081");
        String all = online
                + "{\"name\":\"" + name + "\",\"addr\":\"127.0.0.1:8081\",\"online\":false,\"attrs\":{\"zone\":\"a\"},\"created\":" + c1 + "}\n";
        h.awaitOut(all);
        assertEquals(new Run(0, all, ""), h.stop());
    }

    // ---- leader -----------------------------------------------------------------------------------

    @Test
    void leader_printsTheOldestInstance() throws Exception {
        client.register(name, ":8081", Map.of("zone", "a"));
        client.register(name, ":8082", null);
        String c1 = created(client.services(name).get(0));
        assertEquals(new Run(0, "127.0.0.1:8081 created=" + c1 + " zone=a\n", ""), run("leader", name));
        assertEquals(new Run(0, "{\"name\":\"" + name + "\",\"addr\":\"127.0.0.1:8081\",\"attrs\":{\"zone\":\"a\"},\"created\":" + c1 + "}\n", ""),
                run("leader", name, "--json"));
    }

    @Test
    void leader_ofAServiceWithoutInstances_nothingOnStdout_exit3() {
        assertEquals(new Run(3, "", "discoverd: no leader for " + name + ": it has no online instance\n"), run("leader", name));
        assertEquals(3, run("leader", name, "--json").exit);
    }

    @Test
    void leader_follow_printsEachNewLeader_andNoLeader_untilTheStopSignal() throws Exception {
        Held h = start("leader", name, "--follow");
        h.awaitOut("(no leader)\n");
        client.register(name, ":8081", null);
        String c1 = created(client.services(name).get(0));
        h.awaitOut("(no leader)\n127.0.0.1:8081 created=" + c1 + "\n");
        client.register(name, ":8082", null); // not a new leader: nothing printed
        String c2 = created(client.services(name).get(1));
        client.unregister(name, ":8081");
        String all = "(no leader)\n127.0.0.1:8081 created=" + c1 + "\n127.0.0.1:8082 created=" + c2 + "\n";
        h.awaitOut(all);
        assertEquals(new Run(0, all, ""), h.stop());
    }

    // ---- the daemon's address and its absence ----------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"services web", "services web --json", "leader web", "leader web --follow", "watch web",
            "register --name web --addr :1", "unregister --name web --addr :1"})
    void daemonDown_oneLineOnStderr_nothingOnStdout_exit4(String command) throws Exception {
        String down = "127.0.0.1:" + freePort();
        Run r = run(Map.of("DISCOVERD", down), command.split(" "));
        assertEquals(new Run(4, "", "discoverd: cannot reach the daemon at " + down + ": Connection refused\n"), r);
    }

    @Test
    void daemonAddress_flagOverEnvironmentOverDefault() throws Exception {
        client.register(name, ":8081", null);
        String down = "127.0.0.1:" + freePort();
        assertEquals(0, run(Map.of("DISCOVERD", address), "leader", name).exit);
        assertEquals(0, run(Map.of("DISCOVERD", "tcp://" + address), "leader", name).exit);
        assertEquals(0, run(Map.of("DISCOVERD", down), "leader", name, "--discoverd", address).exit);
        assertEquals(4, run(Map.of("DISCOVERD", address), "leader", name, "--discoverd", down).exit);
    }

    @Test
    void daemonAddress_malformed_exit2() {
        Run r = run(Map.of("DISCOVERD", address), "services", "web", "--discoverd", "nonsense");
        assertUsageFailure(r);
        assertEquals("discoverd: invalid daemon address (--discoverd or DISCOVERD): daemon address must be host:port, got \"nonsense\"\n", r.err);
        assertEquals(2, run(Map.of("DISCOVERD", "nonsense"), "services", "web").exit);
    }

    @ParameterizedTest
    @ValueSource(strings = {"register --name web", "register --addr :1", "register --name web --addr :1 --attr novalue",
            "unregister --name web", "services", "services a b", "services web --bogus", "watch", "leader",
            "leader web --follow=maybe"})
    void badFlags_usageOnStderr_exit2(String command) {
        Run r = run(command.split(" "));
        assertUsageFailure(r);
        assertTrue(r.err.contains("Usage: discoverd"), r.err);
    }

    @Test
    void unknownCommand_exit2() {
        Run r = run("nosuchcommand");
        assertUsageFailure(r);
        assertTrue(r.err.startsWith("Unmatched argument at index 0: 'nosuchcommand'\n"), r.err);
    }

    @Test
    void help_listsEveryCommandAndTheExitStatuses() {
        Run r = run("--help");
        assertEquals(0, r.exit);
        for (String s : List.of("serve ", "register ", "unregister ", "services ", "watch ", "leader ", "drain ",
                "Exit status:", "  3     not found", "  4     the daemon or its store is unavailable", "  143   serve stopped by SIGTERM", "DISCOVERD")) {
            assertTrue(r.out.contains(s), s + " in\n" + r.out);
        }
    }

    // ---- serve and drain --------------------------------------------------------------------------

    @Test
    void serve_isTheDefault_andTakesConfigBeforeOrAfterTheSubcommand() throws Exception {
        Path bad = dataDir.resolve("bad.yaml");
        Files.writeString(bad, "maxAttrsBytes: -5\n");
        for (String[] args : List.of(new String[] {"--config", bad.toString()}, new String[] {"serve", "--config", bad.toString()},
                new String[] {"--config", bad.toString(), "serve"})) {
            PrintStream stderr = System.err;
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            System.setErr(new PrintStream(captured, true));
            try {
                assertEquals(2, run(args).exit, String.join(" ", args));
            } finally {
                System.setErr(stderr);
            }
            assertTrue(captured.toString().contains("maxAttrsBytes"), captured.toString());
        }
    }

    @Test
    void drain_reachesTheDaemonNamedByDiscoverd_orDISCOVERD_exit0_andExit4WhenItIsDown() throws Exception {
        Path dir = Files.createDirectories(dataDir.resolve("drained"));
        try (TestDaemon drained = TestDaemon.start(dir)) {
            String at = "127.0.0.1:" + drained.port();
            Run r = run(Map.of("DISCOVERD", "tcp://" + at), "drain");
            assertEquals(new Run(0, "", "discoverd drain: " + at + " is draining\ndiscoverd drain: " + at + " has stopped\n"), r);
        }
        String down = "127.0.0.1:" + freePort();
        Run r = run("drain", "--discoverd", down, "--timeout", "1");
        assertEquals(4, r.exit, r::toString);
        assertTrue(r.err.startsWith("discoverd drain: cannot reach the daemon at " + down + ": "), r.err);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-5"})
    void drain_withATimeoutBelowOneSecond_exit2_withoutContactingTheDaemon(String timeout) throws Exception {
        String down = "127.0.0.1:" + freePort();
        Run r = run("drain", "--discoverd", down, "--timeout", timeout);
        assertEquals(new Run(2, "", "discoverd drain: --timeout must be a positive number of seconds, not " + timeout + "\n"), r);
    }

    @Test
    void drain_withTheDaemonsBindBeforeTheCommand_exit2() throws Exception {
        Run r = run("--bind", "127.0.0.1:" + freePort(), "drain");
        assertEquals(2, r.exit, r::toString);
        assertTrue(r.err.contains("--bind before the command"), r.err);
    }

    @ParameterizedTest
    @ValueSource(strings = {"--config", "--bind"})
    void serveFlagsBeforeAClientCommand_exit2_namingTheFlag(String flag) {
        Run r = run(flag, "x", "services", name);
        assertEquals(new Run(2, "", "discoverd services: " + flag + " before the command configure the daemon ('serve') only;"
                + " remove it (the daemon to talk to is --discoverd)\n"), r);
    }

    @Test
    void watch_endsWithStatus0_whenItsStdoutIsClosed() throws Exception {
        client.register(name, ":8081");
        ClosableWriter out = new ClosableWriter();
        StringWriter err = new StringWriter();
        StopSignal stop = StopSignal.manual();
        CommandLine cmd = new CommandLine(new Main(Map.of("DISCOVERD", address), stop));
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cmd.execute("watch", name));
        await(() -> out.text().contains("127.0.0.1:8081"), () -> "the first line");
        out.closed = true; // as `| head -1` after its line
        client.register(name, ":8082");
        assertEquals(0, exit.get(5, TimeUnit.SECONDS), err::toString);
        assertFalse(stop.isTriggered());
    }

    @Test
    void leaderFollow_endsWithStatus0_whenItsStdoutIsClosed() throws Exception {
        ClosableWriter out = new ClosableWriter();
        out.closed = true;
        CommandLine cmd = new CommandLine(new Main(Map.of("DISCOVERD", address), StopSignal.manual()));
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(new StringWriter(), true));
        assertEquals(0, CompletableFuture.supplyAsync(() -> cmd.execute("leader", "--follow", name)).get(5, TimeUnit.SECONDS));
    }

    @Test
    void storeUnavailable_isExit4_likeAnUnreachableDaemon() {
        assertEquals(ExitCodes.UNAVAILABLE, ClientCommand.exitCode(new DiscoverdException(DiscoverdException.Kind.SERVER_ERROR,
                "x", "discoverd: store unavailable: zookeeper 127.0.0.1:2181: connection loss", null)));
        assertEquals(ExitCodes.FAILED, ClientCommand.exitCode(new DiscoverdException(DiscoverdException.Kind.SERVER_ERROR,
                "x", "discoverd: Addr must be set", null)));
    }

    @Test
    void services_json_nilAttrsAreNull() throws Exception {
        client.register(name, ":8081", null);
        client.register(name, ":8082", Map.of());
        List<ServiceInstance> in = client.services(name);
        Run r = run("services", name, "--json");
        assertEquals("[\n  {\"name\":\"" + name + "\",\"addr\":\"127.0.0.1:8081\",\"attrs\":null,\"created\":" + created(in.get(0)) + "},\n"
                + "  {\"name\":\"" + name + "\",\"addr\":\"127.0.0.1:8082\",\"attrs\":{},\"created\":" + created(in.get(1)) + "}\n]\n", r.out);
    }

    /** A stdout whose reader can go away: every write and flush then fails, as on a closed pipe. */
    private static final class ClosableWriter extends java.io.Writer {
        private final StringBuilder text = new StringBuilder();
        volatile boolean closed;

        @Override
        public synchronized void write(char[] cbuf, int off, int len) throws java.io.IOException {
            if (closed) {
                throw new java.io.IOException("Broken pipe");
            }
            text.append(cbuf, off, len);
        }

        @Override
        public void flush() throws java.io.IOException {
            if (closed) {
                throw new java.io.IOException("Broken pipe");
            }
        }

        @Override
        public void close() {
            closed = true;
        }

        synchronized String text() {
            return text.toString();
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /** One finished run: exit status, stdout, stderr. */
    record Run(int exit, String out, String err) {
    }

    /** Exit status 2 (invalid flags or address) and nothing on stdout. */
    private static void assertUsageFailure(Run r) {
        assertEquals(2, r.exit, r::toString);
        assertEquals("", r.out);
    }

    private Run run(String... args) {
        return run(Map.of("DISCOVERD", address), args);
    }

    private static Run run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = commandLine(env, StopSignal.manual(), out, err).execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static CommandLine commandLine(Map<String, String> env, StopSignal stop, StringWriter out, StringWriter err) {
        CommandLine cmd = new CommandLine(new Main(env, stop));
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd;
    }

    /** A holding command running on its own thread until {@link #stop()}. */
    private Held start(String... args) {
        return start(Map.of("DISCOVERD", address), args);
    }

    private static Held start(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        StopSignal stop = StopSignal.manual();
        CommandLine cmd = commandLine(env, stop, out, err);
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cmd.execute(args));
        return new Held(exit, stop, out, err);
    }

    private record Held(CompletableFuture<Integer> exit, StopSignal signal, StringWriter out, StringWriter err) {

        void awaitOut(String expected) throws InterruptedException {
            await(() -> out.toString().equals(expected) || exit.isDone(), () -> "stdout " + expected);
            assertEquals(expected, out.toString(), () -> "stderr: " + err);
        }

        Run stop() throws Exception {
            signal.trigger();
            int code = exit.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            return new Run(code, out.toString(), err.toString());
        }
    }

    private static void await(Supplier<Boolean> condition, Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.get()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what.get());
            }
            Thread.sleep(10);
        }
    }

    private static String created(ServiceInstance i) {
        return Long.toUnsignedString(i.created());
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

}
