package io.discoverd.bench;

import io.discoverd.bench.daemon.DaemonUnderTest;
import io.discoverd.bench.raw.EtcdRaw;
import io.discoverd.bench.raw.RawStore;
import io.discoverd.bench.raw.ZooKeeperRaw;
import io.discoverd.bench.report.Report;
import io.discoverd.bench.scenario.BenchRun;
import io.discoverd.bench.scenario.FanOut;
import io.discoverd.bench.scenario.Heartbeats;
import io.discoverd.bench.scenario.Memory;
import io.discoverd.bench.scenario.NotificationLatency;
import io.discoverd.bench.scenario.RegisterThroughput;
import io.discoverd.bench.scenario.Scale;
import io.discoverd.bench.scenario.Scenario;
import io.discoverd.bench.store.EtcdServerProcess;
import io.discoverd.bench.store.Processes;
import io.discoverd.bench.store.StoreServer;
import io.discoverd.bench.store.ZooKeeperServerProcess;
import io.discoverd.bench.wire.WireClient;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/bench}: starts a store and the daemon as their own processes, runs every scenario of
 * issue 6 against the daemon and against the raw store client in the same run, and prints a table
 * plus a JSON file.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Benchmarks the discoverd daemon against the raw store (ZooKeeper through Curator, etcd through jetcd).")
public final class BenchMain implements Callable<Integer> {

    /** Registration TTL of the daemon and of the raw etcd leases, in s: long enough that nothing expires during a run. */
    static final long REGISTRATION_TTL_SECONDS = 1800;
    /** Printed before and after a run with small sizes; {@code %s}: its option. */
    private static final String INDICATIVE = "note: the verdicts of a %s run are indicative only: its warm-ups are short (the"
            + " notes say when a JIT was still compiling) and its samples few, so a \"NO\" there is no finding; the targets are"
            + " judged on the full run (docs/benchmarks.md)";
    /** The load generator's event loops: its share of the two cores the daemon also runs on. */
    private static final int LOAD_EVENT_LOOPS = 2;

    @Option(names = "--backend", description = "zookeeper, etcd or all (default: all)")
    String backend = "all";

    @Option(names = "--quick", description = "smaller sizes: under two minutes on two cores")
    boolean quick;

    @Option(names = "--smoke", description = "tiny sizes, a few seconds per backend: proves every scenario runs (bin/test)")
    boolean smoke;

    @Option(names = "--scenarios", split = ",", description = "only these scenarios, by number (default all): 1 register,"
            + " 2 notify, 3 heartbeat, 4 fan-out, 5 scale, 6 memory, 7 codec (JMH)")
    Set<Integer> scenarios;

    @Option(names = "--out", description = "the JSON results file (default: bench/target/bench-<mode>-<time>.json)")
    Path out;

    @Option(names = "--markdown", description = "also write the results as Markdown to this file (the generated part of docs/benchmarks.md)")
    Path markdown;

    @Option(names = "--daemon-event-loops", description = "the daemon's eventLoops setting (default: the daemon's own"
            + " default, one per processor); to compare loop counts")
    Integer daemonEventLoops;

    @Option(names = "--work", description = "where stores and daemons keep their data and logs (default: a new directory under /dev/shm, else the system temp dir)")
    Path work;

    @Option(names = "--root", description = "the repository root (default: the discoverd.root system property, else .)")
    Path root = Path.of(System.getProperty("discoverd.root", "."));

    private final PrintStream console = System.out;
    private List<String> args = List.of();

    /** Runs the bench; exit status 0 when every scenario ran (targets missed are reported, not failed). */
    public static void main(String[] args) {
        BenchMain bench = new BenchMain();
        bench.args = List.of(args);
        int status = new CommandLine(bench).execute(args);
        System.exit(status);
    }

    @Override
    public Integer call() throws Exception {
        if (quick && smoke) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--quick and --smoke exclude each other");
        }
        if (daemonEventLoops != null && daemonEventLoops < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--daemon-event-loops must be at least 1");
        }
        Profile profile = smoke ? Profile.SMOKE : quick ? Profile.QUICK : Profile.FULL;
        List<String> backends = switch (backend) {
            case "all" -> List.of("zookeeper", "etcd");
            case "zookeeper", "etcd" -> List.of(backend);
            default -> throw new CommandLine.ParameterException(new CommandLine(this), "unknown backend " + backend);
        };
        Path jar = root.resolve("server/target/discoverd.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IOException("no daemon jar at " + jar + " (bin/bench builds it)");
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path workDir = work != null ? work : Files.createTempDirectory(
                Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir")),
                "discoverd-bench-");
        Path results = out != null ? out : root.resolve("bench/target/bench-" + profile.name() + "-" + stamp + ".json");
        Report report = new Report(profile.name(), machine(workDir));
        console.printf("discoverd bench (%s) — work directory %s%n", profile.name(), workDir);
        String indicative = smoke || quick ? INDICATIVE.formatted(smoke ? "--smoke" : "--quick") : null;
        if (indicative != null) {
            console.println(indicative);
        }
        long started = System.nanoTime();
        boolean completed = false;
        AtomicBoolean ended = new AtomicBoolean();
        Thread onKill = new Thread(() -> cleanUpAfterKill(ended, workDir), "bench-kill-cleanup");
        Runtime.getRuntime().addShutdownHook(onKill);
        try {
            for (String b : backends) {
                if (scenarios().keySet().stream().anyMatch(this::wanted)) {
                    runBackend(b, profile, jar, workDir.resolve(b), report);
                }
            }
            if (wanted(7)) {
                console.println("== 7 codec (JMH micro-benchmarks)");
                CodecBenchmarks.run(profile, report, console);
            }
            completed = true;
        } finally {
            ended.set(true);
            report.print(console);
            if (indicative != null) {
                console.println(indicative);
            }
            report.writeJson(results);
            if (markdown != null) {
                report.writeMarkdown(markdown, "bin/bench " + String.join(" ", args));
            }
            console.printf("results: %s (%.0f s)%n", results.toAbsolutePath(),
                    (System.nanoTime() - started) / 1e9);
            if (work == null && completed) {
                Processes.deleteTree(workDir);
            } else {
                console.println("stores' and daemons' logs kept in " + workDir);
            }
        }
        return 0;
    }

    /**
     * The bench was killed (SIGTERM, SIGINT) before its run ended: stops the stores and daemons it
     * started (SIGTERM, then SIGKILL after 10 s), which would otherwise outlive it, and deletes the
     * work directory unless {@code --work} named it (by default it is memory under /dev/shm).
     */
    private void cleanUpAfterKill(AtomicBoolean ended, Path workDir) {
        if (ended.get()) {
            return;
        }
        Processes.stop(ProcessHandle.current().descendants().toList());
        if (work == null) {
            Processes.deleteTree(workDir);
            System.err.println("bench: killed; its stores and daemons were stopped and " + workDir + " deleted");
        } else {
            System.err.println("bench: killed; its stores and daemons were stopped (logs kept in " + workDir + ")");
        }
    }

    private boolean wanted(int number) {
        return scenarios == null || scenarios.contains(number);
    }

    private void runBackend(String name, Profile profile, Path jar, Path dir, Report report) throws Exception {
        console.printf("== %s: starting the store and the daemon%n", name);
        try (StoreServer store = name.equals("etcd") ? EtcdServerProcess.start(dir.resolve("store"))
                        : ZooKeeperServerProcess.start(dir.resolve("store"), profile.daemonHeap());
             DaemonUnderTest daemon = DaemonUnderTest.start(jar, dir.resolve("daemon"), daemonConfig(store, dir, daemonEventLoops),
                     profile.daemonHeap());
             RawStore raw = name.equals("etcd") ? new EtcdRaw(store.address(), REGISTRATION_TTL_SECONDS, daemon.transport())
                     : new ZooKeeperRaw(store.address());
             WireClient wire = new WireClient(LOAD_EVENT_LOOPS, daemon.transport())) {
            report.note("[" + name + "] store " + store.address() + ", daemon pid " + daemon.pid() + " (-Xmx"
                    + profile.daemonHeap() + ", registrationTtl " + REGISTRATION_TTL_SECONDS
                    + " s: no instance expires during the run, so none needs heartbeats); network transport: "
                    + daemon.transport() + ", as the daemon's start-up line names it, for the daemon (on "
                    + daemon.eventLoops() + " event loops, "
                    + (daemonEventLoops == null ? "its default: one per processor" : "set by --daemon-event-loops")
                    + ") and the load generator (on " + LOAD_EVENT_LOOPS + ")"
                    + (name.equals("etcd") ? " and the raw jetcd client"
                            : "; ZooKeeper's own clients (the daemon's and the raw Curator one) keep their NIO connection"));
            BenchRun run = new BenchRun(name, profile, store, daemon, raw, wire, report, console, REGISTRATION_TTL_SECONDS);
            for (Map.Entry<Integer, Scenario> s : scenarios().entrySet()) {
                if (!wanted(s.getKey())) {
                    continue;
                }
                console.printf("== %s: %s%n", name, s.getValue().name());
                long t0 = System.nanoTime();
                s.getValue().run(run);
                console.printf("   (%.1f s)%n", (System.nanoTime() - t0) / 1e9);
            }
        }
    }

    private static Map<Integer, Scenario> scenarios() {
        Map<Integer, Scenario> all = new LinkedHashMap<>();
        all.put(1, new RegisterThroughput());
        all.put(2, new NotificationLatency());
        all.put(3, new Heartbeats());
        // Memory before fan-out and scale: what their 10,000 connections and lingering views (30 s)
        // leave behind must not be freed between memory's two heap readings.
        all.put(6, new Memory());
        all.put(4, new FanOut());
        all.put(5, new Scale());
        return all;
    }

    private static String daemonConfig(StoreServer store, Path dir, Integer eventLoops) {
        return "backend: " + store.backend() + "\n"
                + "dataDir: " + dir.resolve("daemon/data") + "\n"
                + "registrationTtl: " + REGISTRATION_TTL_SECONDS + "s\n"
                + (eventLoops == null ? "" : "eventLoops: " + eventLoops + "\n")
                + store.daemonSection();
    }

    private static Map<String, Object> machine(Path workDir) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", cpuModel());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("memoryBytes", ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("zookeeper", org.apache.zookeeper.Version.getFullVersion());
        m.put("etcd", command("etcd", "--version"));
        m.put("workDir", workDir.toString());
        return m;
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String command(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().findFirst().orElse("");
            p.waitFor(10, TimeUnit.SECONDS);
            return text.trim();
        } catch (IOException | InterruptedException e) {
            return "not found";
        }
    }
}
