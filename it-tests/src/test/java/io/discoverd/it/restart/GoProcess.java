package io.discoverd.it.restart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.discoverd.it.gob.GoClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * A long-running subcommand of the Go client ({@code gobclient heartbeat} or {@code gobclient
 * watch}, see {@code it-tests/go/longrun.go}) as its own process, whose JSON output lines are
 * collected as they come. Both redial every 200 ms while their daemon is away, so a test can
 * restart the daemon under them on the same address.
 *
 * <p>Thread-safe for reading; start and stop from the test thread.
 */
final class GoProcess implements AutoCloseable {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Process process;
    private final List<String> command;
    private final List<JsonNode> events = new ArrayList<>();
    private final StringBuilder other = new StringBuilder();

    private GoProcess(Process process, List<String> command) {
        this.process = process;
        this.command = command;
        Thread reader = new Thread(this::pump, "gobclient-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * {@code gobclient heartbeat}: registers {@code :<port>} under {@code name} for every port
     * through {@code addr}, then again every second (a heartbeat, PROTOCOL.md §5.3).
     */
    static GoProcess heartbeat(String addr, String name, int... ports) throws IOException, InterruptedException {
        String list = java.util.Arrays.stream(ports).mapToObj(Integer::toString).collect(Collectors.joining(","));
        return start("heartbeat", "-addr=" + addr, "-name=" + name, "-ports=" + list, "-interval=1s");
    }

    /** {@code gobclient watch}: subscribes to {@code name} through {@code addr} and reports every item. */
    static GoProcess watch(String addr, String name) throws IOException, InterruptedException {
        return start("watch", "-addr=" + addr, "-name=" + name);
    }

    private static GoProcess start(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(GoClient.binary().toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        return new GoProcess(p, cmd);
    }

    private void pump() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                JsonNode node = null;
                if (line.startsWith("{")) {
                    try {
                        node = MAPPER.readTree(line);
                    } catch (IOException e) {
                        node = null;
                    }
                }
                synchronized (events) {
                    if (node != null) {
                        events.add(node);
                    } else {
                        other.append(line).append('\n');
                    }
                    events.notifyAll();
                }
            }
        } catch (IOException e) {
            // the process ended; its output is complete
        }
        synchronized (events) {
            events.notifyAll();
        }
    }

    /** A copy of the events so far, in output order. */
    List<JsonNode> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    /** The number of events so far: a mark for {@link #await(int, Predicate, Duration, String)}. */
    int mark() {
        synchronized (events) {
            return events.size();
        }
    }

    /**
     * Waits for an event at or after index {@code from} that matches.
     *
     * @return the index of the first such event
     * @throws AssertionError if none arrives within {@code timeout}
     */
    int await(int from, Predicate<JsonNode> match, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (events) {
            for (int i = from; ; i++) {
                while (i >= events.size()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new AssertionError("no " + what + " within " + timeout + "\n" + describe());
                    }
                    events.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 200)));
                }
                if (match.test(events.get(i))) {
                    return i;
                }
            }
        }
    }

    /** Whether the process still runs. */
    boolean isAlive() {
        return process.isAlive();
    }

    /** The command and everything it printed, for assertion messages. */
    String describe() {
        synchronized (events) {
            return String.join(" ", command) + "\n" + events.stream().map(JsonNode::toString).collect(Collectors.joining("\n"))
                    + (other.isEmpty() ? "" : "\n--- other output\n" + other);
        }
    }

    /** Stops the process (SIGTERM, then SIGKILL after 5 s). */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
    }
}
