package io.discoverd.it.cli;

import static org.junit.jupiter.api.Assertions.fail;

import io.discoverd.it.DaemonProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code bin/discoverd} client subcommands as processes, as an operator does, with stdout and
 * stderr kept apart. {@code DISCOVERD} is removed from the inherited environment unless the caller
 * sets it, so that the address a command uses is always the test's choice.
 */
final class Cli {

    /** How long a one-shot command may take (a JVM start and one or two round trips). */
    static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);
    /** How long an expected line of a holding command may take. */
    static final Duration LINE_TIMEOUT = Duration.ofSeconds(15);

    private Cli() {
    }

    /** What a finished command left. */
    record Result(List<String> args, int exit, String stdout, String stderr) {

        List<String> stderrLines() {
            return stderr.isEmpty() ? List.of() : List.of(stderr.split("\n"));
        }

        @Override
        public String toString() {
            return "discoverd " + String.join(" ", args) + " → exit " + exit + "\n--- stdout:\n" + stdout + "--- stderr:\n" + stderr;
        }
    }

    private static ProcessBuilder builder(Map<String, String> env, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(DaemonProcess.ROOT.resolve("bin/discoverd").toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("DISCOVERD");
        env.forEach((k, v) -> {
            if (v == null) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        return pb;
    }

    /** Runs a command to its end with the given extra environment. */
    static Result run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> argList = List.of(args);
        Process p = builder(env, argList).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        StringBuilder out = new StringBuilder();
        StringBuilder err = new StringBuilder();
        Thread o = pump(p.getInputStream(), line -> append(out, line));
        Thread e = pump(p.getErrorStream(), line -> append(err, line));
        if (!p.waitFor(RUN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            fail("discoverd " + String.join(" ", argList) + " did not end within " + RUN_TIMEOUT);
        }
        o.join();
        e.join();
        synchronized (out) {
            synchronized (err) {
                return new Result(argList, p.exitValue(), out.toString(), err.toString());
            }
        }
    }

    /** Runs a command to its end. */
    static Result run(String... args) throws IOException, InterruptedException {
        return run(Map.of(), args);
    }

    /** Starts a holding command ({@code register}, {@code watch}, {@code leader --follow}). */
    static Held start(String... args) throws IOException {
        return new Held(List.of(args), builder(Map.of(), List.of(args)).start());
    }

    private static void append(StringBuilder b, String line) {
        synchronized (b) {
            b.append(line).append('\n');
        }
    }

    private static Thread pump(InputStream in, java.util.function.Consumer<String> lines) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.accept(line);
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "cli-output");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** A running command whose stdout lines a test takes one by one. */
    static final class Held implements AutoCloseable {
        private final List<String> args;
        private final Process process;
        private final LinkedBlockingQueue<String> pendingOut = new LinkedBlockingQueue<>();
        private final List<String> out = new ArrayList<>();
        private final List<String> err = new ArrayList<>();
        private final Thread outPump;
        private final Thread errPump;

        private Held(List<String> args, Process process) {
            this.args = args;
            this.process = process;
            this.outPump = pump(process.getInputStream(), line -> {
                synchronized (out) {
                    out.add(line);
                }
                pendingOut.add(line);
            });
            this.errPump = pump(process.getErrorStream(), line -> {
                synchronized (err) {
                    err.add(line);
                }
            });
        }

        /** The next stdout line; fails when none comes within {@link #LINE_TIMEOUT} or the process ends first. */
        String nextLine() throws InterruptedException {
            long deadline = System.nanoTime() + LINE_TIMEOUT.toNanos();
            while (true) {
                String line = pendingOut.poll(100, TimeUnit.MILLISECONDS);
                if (line != null) {
                    return line;
                }
                if (!process.isAlive()) {
                    outPump.join();
                    line = pendingOut.poll();
                    if (line != null) {
                        return line;
                    }
                    fail(this + "\nended before printing another line");
                }
                if (System.nanoTime() > deadline) {
                    fail(this + "\nprinted no line within " + LINE_TIMEOUT);
                }
            }
        }

        /** Every stdout line so far. */
        List<String> stdout() {
            synchronized (out) {
                return List.copyOf(out);
            }
        }

        /** Every stderr line so far. */
        List<String> stderr() {
            synchronized (err) {
                return List.copyOf(err);
            }
        }

        boolean isAlive() {
            return process.isAlive();
        }

        /**
         * Sends a signal ({@code TERM}, {@code INT}) with {@code kill} and waits for the exit.
         *
         * @return the exit status
         */
        int signal(String name) throws IOException, InterruptedException {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (kill.waitFor() != 0) {
                fail("kill -" + name + " " + process.pid() + " failed");
            }
            if (!process.waitFor(RUN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                fail(this + "\ndid not end within " + RUN_TIMEOUT + " of SIG" + name);
            }
            outPump.join();
            errPump.join();
            return process.exitValue();
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor();
            }
        }

        @Override
        public String toString() {
            return "discoverd " + String.join(" ", args) + (process.isAlive() ? " (running)" : " → exit " + process.exitValue())
                    + "\n--- stdout:\n" + String.join("\n", stdout()) + "\n--- stderr:\n" + String.join("\n", stderr());
        }
    }
}
