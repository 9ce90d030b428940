package io.discoverd.it.gob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.it.DaemonProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Go interop client ({@code it-tests/go}, standard library only): builds it once per JVM with
 * {@code go build} into {@code it-tests/target/go/} and runs its subcommands. Go's own
 * {@code encoding/gob} encodes and decodes every RPC value, so Go, not the project's codec, judges
 * the daemon's bytes (ARCHITECTURE.md, tests tier 3).
 *
 * <p>Thread-safe: the build is done once under a lock; runs are independent processes.
 */
public final class GoClient {

    /** The Go module of the client. */
    public static final Path SOURCE = DaemonProcess.ROOT.resolve("it-tests/go");
    /** The wire captures (testdata/wire). */
    public static final Path CAPTURES = DaemonProcess.ROOT.resolve("testdata/wire");

    private static final Path OUTPUT_DIR = DaemonProcess.ROOT.resolve("it-tests/target/go");
    private static Path binary;

    private GoClient() {
    }

    /** What one run printed and how it ended. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {

        /** Everything, for assertion messages. */
        public String describe() {
            return String.join(" ", command) + "\nexit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    /**
     * Builds the client once per JVM, offline (no module downloads: the client uses only the
     * standard library).
     *
     * @return the executable
     * @throws IllegalStateException if {@code go build} fails or takes longer than 5 minutes
     */
    public static synchronized Path binary() throws IOException, InterruptedException {
        if (binary != null) {
            return binary;
        }
        Files.createDirectories(OUTPUT_DIR);
        // build under a unique name, then move: concurrent JVMs never see a half-written file
        Path tmp = Files.createTempFile(OUTPUT_DIR, "gobclient", ".tmp");
        Result r = exec(List.of("go", "build", "-o", tmp.toString(), "."), SOURCE, Duration.ofMinutes(5));
        if (r.exitCode() != 0) {
            Files.deleteIfExists(tmp);
            throw new IllegalStateException("go build failed:\n" + r.describe());
        }
        Path target = OUTPUT_DIR.resolve("gobclient");
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        binary = target;
        return binary;
    }

    /**
     * Runs a subcommand of the client.
     *
     * @param timeout how long the run may take; it is killed after that
     * @param args    the subcommand and its flags, e.g. {@code replay -addr 127.0.0.1:1234 -file F}
     */
    public static Result run(Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary().toString());
        cmd.addAll(List.of(args));
        return exec(cmd, SOURCE, timeout);
    }

    /** Runs {@code go} with the given arguments in the client's module, offline. */
    public static Result go(Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("go");
        cmd.addAll(List.of(args));
        return exec(cmd, SOURCE, timeout);
    }

    /**
     * Asserts that a run exited 0 and printed {@code PASS <name> <items>}.
     *
     * @param daemonOutput appended to the failure message (the daemon's log), may be empty
     */
    public static void assertPassed(Result r, String name, String items, String daemonOutput) {
        String expected = "PASS " + name + " " + items;
        String why = r.describe() + (daemonOutput.isEmpty() ? "" : "\n--- daemon output (last lines)\n" + tail(daemonOutput, 60));
        assertEquals(0, r.exitCode(), () -> "gobclient failed:\n" + why);
        assertTrue(r.stdout().lines().anyMatch(expected::equals), () -> "missing line '" + expected + "':\n" + why);
    }

    private static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    private static Result exec(List<String> cmd, Path dir, Duration timeout) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        Map<String, String> env = pb.environment();
        env.put("GOFLAGS", "-mod=mod");
        env.put("GOPROXY", "off");
        env.put("GOTOOLCHAIN", "local");
        env.put("GO111MODULE", "on");
        if (!env.containsKey("HOME") && !env.containsKey("GOCACHE")) {
            env.put("GOCACHE", OUTPUT_DIR.resolve("cache").toString());
        }
        Files.createDirectories(OUTPUT_DIR);
        // files, not pipes: no reader threads, and nothing blocks on a full pipe
        Path out = Files.createTempFile(OUTPUT_DIR, "run", ".out");
        Path err = Files.createTempFile(OUTPUT_DIR, "run", ".err");
        try {
            pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
            Process p = pb.start();
            p.getOutputStream().close();
            boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                p.destroyForcibly();
                p.waitFor();
            }
            String stdout = Files.readString(out, StandardCharsets.UTF_8);
            String stderr = Files.readString(err, StandardCharsets.UTF_8) + (finished ? "" : "\n(killed after " + timeout + ")");
            return new Result(cmd, finished ? p.exitValue() : -1, stdout, stderr);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
