package io.discoverd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.discoverd.server.testing.RpcClient;
import io.discoverd.server.testing.TestDaemon;
import io.discoverd.protocol.Args;
import io.vertx.core.transport.Transport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** The daemon's life cycle: start-up line, data directory lock, stop, and the command's exit codes. */
class DaemonTest {

    @TempDir
    Path dataDir;

    /** Captures what the {@link Daemon} logger logs until closed. */
    private static final class DaemonLog implements AutoCloseable {
        private final Logger logger = (Logger) LoggerFactory.getLogger(Daemon.class);
        private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

        DaemonLog() {
            appender.start();
            logger.addAppender(appender);
        }

        /** How many events so far have a message containing {@code text}. */
        long count(String text) {
            return appender.list.stream().filter(e -> e.getFormattedMessage().contains(text)).count();
        }

        @Override
        public String toString() {
            return appender.list.toString();
        }

        @Override
        public void close() {
            logger.detachAppender(appender);
        }
    }

    @Test
    void start_logsOneListeningLineWithTheActualPort() throws Exception {
        try (DaemonLog log = new DaemonLog(); TestDaemon d = TestDaemon.start(dataDir)) {
            assertEquals(1, log.count("discoverd listening on 127.0.0.1:" + d.port() + " "), log.toString());
            assertTrue(d.port() > 0);
        }
    }

    /**
     * Each transport the config can name serves the wire protocol: a Register, a Subscribe's
     * snapshot and sentinel, and a change pushed to the stream; the start-up line names the
     * transport used. A native one this host cannot load is skipped here (the daemon refuses it at
     * start, {@code NetTransportTest}); on Linux x86-64 epoll loads, and io_uring where the kernel
     * allows it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"auto", "nio", "epoll", "io_uring"})
    void eachTransport_servesRegisterSubscribeAndChanges(String name) throws Exception {
        Transport expected = TestDaemon.assumeTransportLoads(name);
        try (DaemonLog log = new DaemonLog();
             TestDaemon d = TestDaemon.start(dataDir, "transport: " + name);
             RpcClient a = RpcClient.connect(d.port(), false);
             RpcClient b = RpcClient.connect(d.port(), true)) {
            assertEquals(1, log.count("(transport " + expected.name() + ", "), log.toString());
            assertEquals("127.0.0.1:1", a.call("Agent.Register", 0, new Args("web", ":1", null)).string());
            b.send("Agent.Subscribe", 7, new Args("web", "", null));
            assertEquals("127.0.0.1:1", b.next().update().addr());
            assertTrue(b.next().isSentinel());
            a.call("Agent.Register", 1, new Args("web", ":2", java.util.Map.of("v", "2")));
            RpcClient.Reply change = b.next();
            assertEquals(7, change.key());
            assertEquals("127.0.0.1:2", change.update().addr());
            assertEquals(java.util.Map.of("v", "2"), change.update().attrs());
        }
    }

    /**
     * {@code eventLoops} sets how many event loops Vert.x makes, one per processor by default, with
     * one listener on each; the start-up line names the count; connections spread over them all serve
     * the protocol.
     */
    @Test
    void eventLoops_setsTheLoopCount_oneListenerOnEach_defaultOnePerProcessor() throws Exception {
        int processors = Runtime.getRuntime().availableProcessors();
        try (TestDaemon d = TestDaemon.start(dataDir)) {
            assertEquals(processors, d.daemon.eventLoops());
            assertArrayEquals(new int[] {processors, processors}, d.daemon.listenerPlacement());
        }
        try (DaemonLog log = new DaemonLog(); TestDaemon d = TestDaemon.start(dataDir, "eventLoops: 3")) {
            assertEquals(3, d.daemon.eventLoops());
            assertArrayEquals(new int[] {3, 3}, d.daemon.listenerPlacement(), "{listeners, distinct loops}");
            assertEquals(1, log.count(", event loops 3, "), log.toString());
            List<RpcClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    clients.add(RpcClient.connect(d.port(), i % 2 == 0));
                }
                for (int i = 0; i < 4; i++) {
                    assertEquals("127.0.0.1:" + (i + 1), clients.get(i).call("Agent.Register", 0,
                            new Args("web", ":" + (i + 1), null)).string());
                }
                RpcClient last = clients.get(3);
                last.send("Agent.Subscribe", 9, new Args("web", "", null));
                Set<String> seen = new HashSet<>();
                for (int i = 0; i < 4; i++) {
                    seen.add(last.next().update().addr());
                }
                assertEquals(4, seen.size(), seen.toString());
                assertTrue(last.next().isSentinel());
            } finally {
                for (RpcClient c : clients) {
                    c.close();
                }
            }
        }
    }

    /**
     * The daemon's Vert.x makes no file-cache directory: the daemon serves no files, and a killed
     * daemon's directory would stay behind. Vert.x names them {@code <vertx.cacheDirBase>-<uuid>};
     * this module's pom points {@code vertx.cacheDirBase} into {@code target}, so no other process
     * adds any there while the test looks.
     */
    @Test
    void start_makesNoVertxFileCacheDirectory() throws Exception {
        String property = System.getProperty("vertx.cacheDirBase");
        assumeTrue(property != null, "vertx.cacheDirBase is set by the pom's surefire configuration");
        Path base = Path.of(property).toAbsolutePath();
        Files.createDirectories(base.getParent());
        Set<Path> before = vertxCaches(base);
        try (TestDaemon d = TestDaemon.start(dataDir)) {
            assertTrue(d.port() > 0);
            Set<Path> made = vertxCaches(base);
            made.removeAll(before);
            assertEquals(Set.of(), made);
        }
    }

    /** The cache directories Vert.x made for {@code base}: {@code <base>-<uuid>}. */
    private static Set<Path> vertxCaches(Path base) throws IOException {
        String prefix = base.getFileName() + "-";
        try (var files = Files.list(base.getParent())) {
            return files.filter(p -> p.getFileName().toString().startsWith(prefix))
                    .collect(Collectors.toCollection(HashSet::new));
        }
    }

    @Test
    void secondDaemonOnTheSameDataDir_failsWithExitCode1() throws Exception {
        try (TestDaemon first = TestDaemon.start(dataDir)) {
            DaemonStartException e = assertThrows(DaemonStartException.class, () -> TestDaemon.start(dataDir));
            assertEquals(1, e.exitCode());
            assertTrue(e.getMessage().contains("in use by another discoverd"), e.getMessage());
            assertTrue(Files.exists(dataDir.resolve(DataDirLock.LOCK_FILE)));
        }
        // Released on stop: the directory can be used again.
        try (TestDaemon again = TestDaemon.start(dataDir)) {
            assertTrue(again.port() > 0);
        }
    }

    @Test
    void close_closesClientConnections_andTheRegistrationsOutliveThem() throws Exception {
        TestDaemon d = TestDaemon.start(dataDir);
        RpcClient c = RpcClient.connect(d.port(), false);
        c.call("Agent.Register", 0, new Args("web", ":1", null));
        c.send("Agent.Subscribe", 1, new Args("web", "", null));
        c.next();
        c.next();
        d.close();
        assertTrue(c.wire.closedByPeer());
        c.close();
    }

    @Test
    void command_withAnInvalidConfig_exitsWith2_namingTheField() throws Exception {
        Path conf = dataDir.resolve("bad.yaml");
        Files.writeString(conf, "maxAttrsBytes: -5\n");
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true));
        try {
            assertEquals(2, new CommandLine(new Main()).execute("--config", conf.toString()));
            assertEquals(2, new CommandLine(new Main()).execute("--config", dataDir.resolve("missing.yaml").toString()));
            assertEquals(2, new CommandLine(new Main()).execute("--no-such-flag"));
            assertEquals(2, new CommandLine(new Main()).execute("--config", conf.toString(), "--bind", "nope"));
        } finally {
            System.setErr(err);
        }
        assertTrue(captured.toString().contains("maxAttrsBytes"), captured.toString());
        assertTrue(captured.toString().contains("--bind"), captured.toString());
    }

    @Test
    void drainCommand_drainsTheDaemonOnTheGivenPort_andWaitsUntilItStopped() throws Exception {
        TestDaemon d = TestDaemon.start(dataDir);
        d.backend().register("web", "10.0.0.1:80", null).toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
        io.discoverd.backend.contract.RecordingListener l = new io.discoverd.backend.contract.RecordingListener();
        d.backend().subscribe("web", l);
        assertEquals(1, l.awaitCurrent(java.time.Duration.ofSeconds(5)).size());
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new java.io.PrintWriter(out));
        cmd.setErr(new java.io.PrintWriter(err));
        // The parent's options (as bin/discoverd passes --config) do not start a daemon.
        assertEquals(0, cmd.execute("--config", dataDir.resolve("unused.yaml").toString(),
                "drain", "--bind", "127.0.0.1:" + d.port(), "--timeout", "15"));
        assertTrue(err.toString().contains("has stopped"), err.toString()); // status lines go to stderr
        assertEquals("", out.toString());
        l.awaitOffline(java.time.Duration.ofSeconds(5), "10.0.0.1:80");
        d.close(); // idempotent after the drain
    }

    @Test
    void drainCommand_withNoDaemonListening_exitsWith4() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        CommandLine cmd = new CommandLine(new Main());
        java.io.StringWriter err = new java.io.StringWriter();
        cmd.setErr(new java.io.PrintWriter(err));
        assertEquals(4, cmd.execute("drain", "--bind", "127.0.0.1:" + port));
        assertTrue(err.toString().contains("cannot reach"), err.toString());
        assertEquals(2, new CommandLine(new Main()).execute("drain", "--bind", "nope"));
    }
}
