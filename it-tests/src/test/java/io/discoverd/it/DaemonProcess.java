package io.discoverd.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A daemon started as users start it: {@code bin/discoverd --config FILE --bind 127.0.0.1:0}, as
 * its own process, with {@code EXTERNAL_IP=127.0.0.1} unless the caller's environment says
 * otherwise. The port is read from the daemon's {@code discoverd listening on HOST:PORT} line.
 *
 * <p>Thread-safe for reading output; start and stop from one test thread.
 */
public final class DaemonProcess implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("discoverd listening on (\\S+):(\\d+)");

    /** The repository's root directory (the parent of the it-tests module). */
    public static final Path ROOT = Path.of(System.getProperty("discoverd.root", "..")).toAbsolutePath().normalize();

    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final Path configFile;
    private volatile int port = -1;

    private DaemonProcess(Process process, Path configFile) {
        this.process = process;
        this.configFile = configFile;
        Thread reader = new Thread(this::pump, "daemon-output-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts a daemon with the given config file contents and waits until it listens.
     *
     * @param workDir    the daemon's working directory (holds the config file; use a temp dir)
     * @param configYaml the whole {@code discoverd.yaml}; should set {@code dataDir} inside workDir
     * @param env        extra environment ({@code EXTERNAL_IP} defaults to 127.0.0.1; map it to
     *                   {@code null} to unset it)
     * @param bind       the {@code --bind} value, e.g. {@code 127.0.0.1:0}
     */
    public static DaemonProcess start(Path workDir, String configYaml, Map<String, String> env, String bind)
            throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        Path config = workDir.resolve("discoverd.yaml");
        Files.writeString(config, configYaml);
        ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("bin/discoverd").toString(),
                "--config", config.toString(), "--bind", bind)
                .directory(workDir.toFile())
                .redirectErrorStream(true);
        pb.environment().put("EXTERNAL_IP", "127.0.0.1");
        pb.environment().putIfAbsent("DISCOVERD_JAVA_OPTS", "-Xmx256m -XX:TieredStopAtLevel=1");
        env.forEach((k, v) -> {
            if (v == null) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        DaemonProcess daemon = new DaemonProcess(pb.start(), config);
        daemon.awaitListening(Duration.ofSeconds(90));
        return daemon;
    }

    /** Starts a daemon on {@code 127.0.0.1:0} with {@code EXTERNAL_IP=127.0.0.1}. */
    public static DaemonProcess start(Path workDir, String configYaml) throws IOException, InterruptedException {
        return start(workDir, configYaml, Map.of(), "127.0.0.1:0");
    }

    private void pump() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                Matcher m = LISTENING.matcher(line);
                if (m.find() && port < 0) {
                    port = Integer.parseInt(m.group(2));
                }
                synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                }
            }
        } catch (IOException e) {
            // the process ended; its output is complete
        }
        synchronized (lines) {
            lines.notifyAll();
        }
    }

    private void awaitListening(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            while (port < 0) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("daemon exited with " + process.exitValue() + ":\n" + output());
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    process.destroyForcibly();
                    throw new IllegalStateException("daemon did not listen within " + timeout + ":\n" + output());
                }
                lines.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 200)));
            }
        }
    }

    /**
     * Waits until a line of the daemon's output matches.
     *
     * @return whether one matched before the timeout
     */
    public boolean awaitOutput(Pattern pattern, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            int checked = 0;
            while (true) {
                for (; checked < lines.size(); checked++) {
                    if (pattern.matcher(lines.get(checked)).find()) {
                        return true;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                lines.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 200)));
            }
        }
    }

    /** The bound port. */
    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:<port>}. */
    public String address() {
        return "127.0.0.1:" + port;
    }

    /** The config file the daemon was started with. */
    public Path configFile() {
        return configFile;
    }

    /** Everything the daemon printed so far. */
    public String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Stops with SIGTERM and waits for the exit. @return the exit code */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        return process.exitValue();
    }

    /** Kills with SIGKILL and waits for the exit. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            stop();
        }
    }
}
