package io.discoverd.backend.etcd.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One real etcd server process (Debian's {@code etcd-server}, 3.4) on loopback, for tests: its own
 * client and peer ports and data directory, stopped and restarted at will with the same ports and
 * data, so a restart is the same member coming back. Members of a cluster are made by
 * {@link EtcdCluster}.
 *
 * <p>Uses the test timings of notes/etcd.md ({@code --heartbeat-interval=10 --election-timeout=100}):
 * a member is ready in about 0.1 s. The process's output goes to {@code etcd.log} beside its data.
 *
 * <p>Not thread-safe: one test thread drives it.
 */
public final class EtcdProcess implements AutoCloseable {

    /** How long a start may take before it is an error. */
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

    private final String name;
    private final Path dir;
    private final int clientPort;
    private final int peerPort;
    private String initialCluster;
    /** Every member of one cluster must use the same token, or they refuse each other ("cluster ID mismatch"). */
    private String clusterToken;
    private boolean newCluster = true;
    /** TLS flags of the client listener, or empty for plain http. */
    private List<String> tlsArgs = List.of();
    private Process process;

    private EtcdProcess(String name, Path dir, int clientPort, int peerPort) {
        this.name = name;
        this.dir = dir;
        this.clientPort = clientPort;
        this.peerPort = peerPort;
        this.initialCluster = name + "=" + peerUrl();
        this.clusterToken = "discoverd-test-" + dir.getFileName();
    }

    /**
     * Starts a single-member etcd in a new temporary directory and waits until it serves.
     *
     * @throws IllegalStateException when etcd is not installed or does not become ready in 30 s
     */
    public static EtcdProcess startSingle() {
        EtcdProcess p = create("etcd-single");
        p.start();
        p.awaitReady();
        return p;
    }

    /**
     * Starts a single-member etcd whose client listener speaks TLS with {@code cert}/{@code key}
     * (PEM) and waits until it serves. With {@code clientCa}, clients must present a certificate
     * signed by it ({@code --client-cert-auth}).
     *
     * @param clientCa the CA of client certificates, or {@code null} to accept any client
     */
    public static EtcdProcess startSingleTls(Path cert, Path key, Path clientCa) {
        EtcdProcess p = create("etcd-tls");
        List<String> args = new ArrayList<>(List.of("--cert-file", cert.toString(), "--key-file", key.toString()));
        if (clientCa != null) {
            args.addAll(List.of("--client-cert-auth", "--trusted-ca-file", clientCa.toString()));
        }
        p.tlsArgs = List.copyOf(args);
        p.start();
        p.awaitReady();
        return p;
    }

    /** A member not started yet, with fresh free ports and a new temporary directory. */
    static EtcdProcess create(String name) {
        try {
            Path dir = Files.createTempDirectory("discoverd-" + name + "-");
            return new EtcdProcess(name, dir, freePort(), freePort());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void initialCluster(String members) {
        this.initialCluster = members;
    }

    void clusterToken(String token) {
        this.clusterToken = token;
    }

    /** This member's name. */
    public String name() {
        return name;
    }

    /** The client URL, {@code http://127.0.0.1:<port>}. */
    public String endpoint() {
        return (tlsArgs.isEmpty() ? "http" : "https") + "://127.0.0.1:" + clientPort;
    }

    String peerUrl() {
        return "http://127.0.0.1:" + peerPort;
    }

    /** Whether the process is running. */
    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Starts the process (again, with the same ports and data) without waiting for it to serve. */
    public void start() {
        if (isRunning()) {
            throw new IllegalStateException(name + " is already running");
        }
        Path etcd = findEtcd();
        List<String> cmd = new ArrayList<>(List.of(etcd.toString(),
                "--name", name,
                "--data-dir", dir.resolve("data").toString(),
                "--listen-client-urls", endpoint(),
                "--advertise-client-urls", endpoint(),
                "--listen-peer-urls", peerUrl(),
                "--initial-advertise-peer-urls", peerUrl(),
                "--initial-cluster", initialCluster,
                "--initial-cluster-state", newCluster ? "new" : "existing",
                "--initial-cluster-token", clusterToken,
                "--heartbeat-interval=10",
                "--election-timeout=100",
                "--logger=zap"));
        cmd.addAll(tlsArgs);
        try {
            process = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("etcd.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + etcd, e);
        }
        newCluster = false; // a restart joins the cluster its data directory knows
    }

    /** Waits until this member answers {@code /health} with {@code true} (it then has a leader). */
    public void awaitReady() {
        long end = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < end) {
            if (!isRunning()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + dir.resolve("etcd.log"));
            }
            if (healthy()) {
                return;
            }
            sleepBriefly();
        }
        throw new IllegalStateException(name + " not ready in " + READY_TIMEOUT + "; see " + dir.resolve("etcd.log"));
    }

    /** Whether {@code GET /health} answers {@code "health":"true"} now. */
    public boolean healthy() {
        if (!tlsArgs.isEmpty()) { // no HTTP client with the test's certificates here: etcd says when it serves
            try {
                return Files.readString(dir.resolve("etcd.log")).contains("serving client traffic securely");
            } catch (IOException e) {
                return false;
            }
        }
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(endpoint() + "/health").toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(1000);
            try (var in = c.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8).contains("\"true\"");
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }

    /** Stops the process with SIGTERM (a clean stop) and waits for it to exit. */
    public void stop() {
        if (process != null) {
            process.destroy();
            waitFor();
        }
    }

    /** Kills the process with SIGKILL and waits for it to exit. */
    public void kill() {
        if (process != null) {
            process.destroyForcibly();
            waitFor();
        }
    }

    private void waitFor() {
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    /** Stops the process (SIGKILL: nothing to keep) and deletes its directory. */
    @Override
    public void close() {
        kill();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temp dir left behind is harmless
        }
    }

    @Override
    public String toString() {
        return name + "@" + endpoint();
    }

    private static Path findEtcd() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(d, "etcd");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new IllegalStateException("etcd is not installed: bin/test installs Debian's etcd-server "
                + "(apt-get install etcd-server etcd-client)");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(20); // polling a process we do not control: no event to await
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
