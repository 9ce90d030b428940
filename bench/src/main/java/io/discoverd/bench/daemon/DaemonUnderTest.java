package io.discoverd.bench.daemon;

import com.sun.management.OperatingSystemMXBean;
import com.sun.tools.attach.VirtualMachine;
import io.discoverd.bench.store.Processes;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.CompilationMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * The daemon as users run it ({@code java -jar server/target/discoverd.jar serve --config FILE}) in
 * its own JVM, and that JVM's own MXBeans (reached through the attach API's local management agent)
 * for its heap after GC and its CPU time, so the load generator and the store are never counted.
 */
public final class DaemonUnderTest implements AutoCloseable {

    private static final Pattern LISTENING =
            Pattern.compile("discoverd listening on (\\S+):(\\d+) \\(transport ([^,]+),(?: event loops (\\d+),)?");

    private final Process process;
    private final long startedNanos = System.nanoTime();
    private final AtomicInteger port = new AtomicInteger(-1);
    /** The transport named in the daemon's start-up line; set once it listens. */
    private volatile String transport = "?";
    /** The event loops named in the daemon's start-up line ("?" when it names none); set once it listens. */
    private volatile String eventLoops = "?";
    /** Whether a warm-up has paused for this daemon yet ({@link #claimWarmUpIdle}). */
    private boolean idledInWarmUp;
    private JMXConnector jmx;
    private MemoryMXBean memory;
    private OperatingSystemMXBean os;
    private CompilationMXBean compilation;
    private List<GarbageCollectorMXBean> collectors;

    private DaemonUnderTest(Process process) {
        this.process = process;
    }

    /**
     * Starts the daemon and waits (at most 120 s) until it listens, then attaches to its JVM.
     *
     * @param jar        {@code server/target/discoverd.jar}
     * @param dir        the daemon's working directory (config, data, log)
     * @param configYaml the whole {@code discoverd.yaml}
     * @param heap       the daemon JVM's -Xmx, e.g. {@code 2g}
     */
    public static DaemonUnderTest start(Path jar, Path dir, String configYaml, String heap) throws Exception {
        Files.createDirectories(dir);
        Path config = dir.resolve("discoverd.yaml");
        Files.writeString(config, configYaml);
        // A pre-touched heap, as a daemon that has run for a while has: otherwise its first minute of load
        // pays the kernel's first-touch page faults (measured: 11 % of its CPU in a heartbeat run).
        List<String> command = new ArrayList<>(List.of(Processes.java(), "-Xms" + heap, "-Xmx" + heap, "-XX:+AlwaysPreTouch",
                "-XX:+UseG1GC"));
        // For profiling the daemon under load, e.g. BENCH_DAEMON_JAVA_OPTS=-XX:StartFlightRecording=filename=/tmp/d.jfr
        String extra = System.getenv("BENCH_DAEMON_JAVA_OPTS");
        if (extra != null && !extra.isBlank()) {
            command.addAll(List.of(extra.trim().split("\\s+")));
        }
        command.addAll(List.of("-jar", jar.toString(), "serve", "--config", config.toString(), "--bind", "127.0.0.1:0"));
        // Its output goes straight to a file, as a process manager's would: a pipe read by a thread of
        // this JVM cost a wake-up and two system calls per log line (one per registration) on the
        // machine the daemon is measured on.
        Path log = dir.resolve("daemon.log");
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("EXTERNAL_IP", "127.0.0.1");
        DaemonUnderTest d = new DaemonUnderTest(pb.start());
        try {
            int port = d.awaitListening(log, TimeUnit.SECONDS.toNanos(120));
            if (port < 0) {
                throw new IOException("the daemon did not listen; see " + log);
            }
            d.port.set(port);
            d.attach();
            return d;
        } catch (Exception | Error e) {
            d.close();
            throw e;
        }
    }

    /** Reads the daemon's log until it says where it listens; -1 when it exits or {@code timeoutNanos} pass first. */
    private int awaitListening(Path log, long timeoutNanos) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (System.nanoTime() - deadline < 0) {
            boolean exited = !process.isAlive();
            if (Files.exists(log)) {
                // A reader that replaces malformed input (Files.newBufferedReader would throw on it).
                try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(log), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        Matcher m = LISTENING.matcher(line);
                        if (m.find()) {
                            transport = m.group(3);
                            if (m.group(4) != null) {
                                eventLoops = m.group(4);
                            }
                            return Integer.parseInt(m.group(2));
                        }
                    }
                }
            }
            if (exited) {
                return -1;
            }
            Thread.sleep(50); // a poll of the file at startup: nothing to await on but the file itself
        }
        return -1;
    }

    private void attach() throws Exception {
        VirtualMachine vm = VirtualMachine.attach(String.valueOf(process.pid()));
        String address;
        try {
            address = vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
        jmx = JMXConnectorFactory.connect(new JMXServiceURL(address));
        memory = ManagementFactory.newPlatformMXBeanProxy(jmx.getMBeanServerConnection(),
                ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
        os = ManagementFactory.newPlatformMXBeanProxy(jmx.getMBeanServerConnection(),
                ManagementFactory.OPERATING_SYSTEM_MXBEAN_NAME, OperatingSystemMXBean.class);
        compilation = ManagementFactory.newPlatformMXBeanProxy(jmx.getMBeanServerConnection(),
                ManagementFactory.COMPILATION_MXBEAN_NAME, CompilationMXBean.class);
        collectors = new ArrayList<>();
        for (ObjectName name : jmx.getMBeanServerConnection().queryNames(
                new ObjectName(ManagementFactory.GARBAGE_COLLECTOR_MXBEAN_DOMAIN_TYPE + ",*"), null)) {
            collectors.add(ManagementFactory.newPlatformMXBeanProxy(jmx.getMBeanServerConnection(), name.toString(),
                    GarbageCollectorMXBean.class));
        }
    }

    /** The daemon's port on 127.0.0.1. */
    public int port() {
        return port.get();
    }

    /** When the daemon's process was started ({@link System#nanoTime()}). */
    public long startedNanos() {
        return startedNanos;
    }

    /** How many event loops the daemon's start-up line says it serves connections on, or "?". */
    public String eventLoops() {
        return eventLoops;
    }

    /** The network transport the daemon says it runs on ({@code epoll}, {@code nio}, ...). */
    public String transport() {
        return transport;
    }

    /** The daemon's process id. */
    public long pid() {
        return process.pid();
    }

    /**
     * The daemon's used heap right after full collections in its own JVM (three {@code System.gc()}
     * through its MemoryMXBean; G1 runs a full GC for each), in bytes.
     */
    public long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            memory.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    /**
     * Claims the one warm-up pause of this daemon's life ({@code StoreServer.warmUpPauseMillis}): true
     * the first time, false after. Called from the bench's one scenario thread.
     */
    public boolean claimWarmUpIdle() {
        boolean first = !idledInWarmUp;
        idledInWarmUp = true;
        return first;
    }

    /** CPU time the daemon's process has used so far, in ns (its OperatingSystemMXBean). */
    public long cpuNanos() {
        return os.getProcessCpuTime();
    }

    /** Time the daemon's JIT compilers have spent compiling so far, in ms (its CompilationMXBean). */
    public long compilationMillis() {
        return compilation.getTotalCompilationTime();
    }

    /**
     * Time the daemon's garbage collectors have spent collecting so far, in ms: the sum over its
     * GarbageCollectorMXBeans (for G1, its young and mixed pauses and its full collections).
     */
    public long gcMillis() {
        long total = 0;
        for (GarbageCollectorMXBean c : collectors) {
            total += c.getCollectionTime();
        }
        return total;
    }

    /** SIGTERM (the daemon keeps its registrations in the store until their TTL or session ends). */
    @Override
    public void close() {
        try {
            if (jmx != null) {
                jmx.close();
            }
        } catch (IOException ignored) {
            // the daemon may be gone already
        }
        Processes.stop(process);
    }
}
