package io.discoverd.server;

import io.discoverd.server.cli.CliEnvironment;
import io.discoverd.server.cli.ExitCodes;
import io.discoverd.server.config.BindAddress;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code discoverd drain}: asks the daemon on this host to drain (PROTOCOL.md §5.11
 * {@code POST /drain}) and waits until it has stopped. Draining gives up everything the daemon
 * holds at once: on ZooKeeper its session is closed and every instance registered through it goes
 * offline for every subscriber; clients whose heartbeats then reach another daemon are registered
 * there again with a new {@code created}. Use it to decommission a host, not to restart a daemon
 * (a plain stop, SIGTERM, keeps every instance online across the restart).
 *
 * <p>The daemon is {@code --discoverd} (or its older name {@code --bind}), else {@code DISCOVERD},
 * else {@code 127.0.0.1:1111}, as for the client subcommands.
 *
 * <p>Prints its progress ({@code is draining}, {@code has stopped}) on stderr; stdout stays empty.
 *
 * <p>Exit status: 0 once the daemon has accepted the drain and stopped listening; 1 when it refuses
 * (e.g. 403: the request must come from a loopback address) or is still listening after
 * {@code --timeout}; 2 for invalid flags (also a {@code --timeout} below 1); 4 when it cannot be reached.
 */
@Command(name = "drain", mixinStandardHelpOptions = true, version = CliEnvironment.VERSION,
        description = {"Drains the daemon on this host: everything it holds goes offline at once, then it stops.",
                "For decommissioning a host; to restart a daemon, stop it with SIGTERM instead."},
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {"0:the daemon accepted and stopped",
                "1:the daemon refused (only loopback addresses may drain), or still listened after --timeout",
                ExitCodes.LIST_USAGE, "4:the daemon cannot be reached"})
final class DrainCommand implements Callable<Integer> {

    /** How long to wait for the daemon's answer, in ms. */
    private static final int IO_TIMEOUT_MS = 10_000;

    @Spec
    CommandSpec spec;

    @ParentCommand
    CliEnvironment cli;

    @Option(names = {"--discoverd", "--bind"}, paramLabel = "HOST:PORT",
            description = "Address of the daemon (default: $DISCOVERD, else 127.0.0.1:1111; an empty host means 127.0.0.1).")
    String bind;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "How long to wait for the daemon to stop after it accepted (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        // A top-level --config is tolerated (scripts pass it to every command), but a top-level --bind
        // names a listen address, not this daemon: draining 127.0.0.1:1111 instead would be a surprise.
        if (cli.serveFlagsGiven().contains("--bind")) {
            err.println("discoverd drain: --bind before the command configures the daemon ('serve') only;"
                    + " put it after 'drain' (or use --discoverd) to name the daemon to drain");
            return ExitCodes.USAGE;
        }
        if (timeoutSeconds <= 0) {
            err.println("discoverd drain: --timeout must be a positive number of seconds, not " + timeoutSeconds);
            return ExitCodes.USAGE;
        }
        BindAddress address;
        try {
            address = BindAddress.parse("--discoverd", target(bind, cli.environment()));
        } catch (IllegalArgumentException e) {
            err.println("discoverd drain: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        String host = address.host().isEmpty() || address.host().equals("0.0.0.0") ? "127.0.0.1" : address.host();
        InetSocketAddress target = new InetSocketAddress(host, address.port());
        String statusLine;
        try {
            statusLine = post(target);
        } catch (IOException e) {
            err.println("discoverd drain: cannot reach the daemon at " + address + ": " + e.getMessage());
            return ExitCodes.UNAVAILABLE;
        }
        if (!statusLine.matches("HTTP/1\\.[01] 200.*")) {
            err.println("discoverd drain: the daemon at " + address + " refused: " + statusLine);
            return ExitCodes.FAILED;
        }
        // Status, not a result: stderr, like every status line of the command line.
        err.println("discoverd drain: " + address + " is draining");
        err.flush();
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (Socket probe = new Socket()) {
                probe.connect(target, 1000);
            } catch (ConnectException e) {
                err.println("discoverd drain: " + address + " has stopped");
                return 0;
            } catch (IOException e) {
                // a timeout or a reset while it shuts down: look again
            }
            try {
                Thread.sleep(100); // polling a port until it closes, bounded by --timeout
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return ExitCodes.FAILED;
            }
        }
        err.println("discoverd drain: " + address + " accepted but was still listening after " + timeoutSeconds + " s");
        return ExitCodes.FAILED;
    }

    /** The flag, else {@code DISCOVERD} (its optional {@code tcp://} prefix dropped), else the default. */
    private static String target(String flag, Map<String, String> env) {
        if (flag != null) {
            return flag;
        }
        String fromEnv = env.get("DISCOVERD");
        if (fromEnv == null || fromEnv.isBlank()) {
            return "127.0.0.1:1111";
        }
        fromEnv = fromEnv.trim();
        return fromEnv.startsWith("tcp://") ? fromEnv.substring("tcp://".length()) : fromEnv;
    }

    /** Sends {@code POST /drain} and returns the answer's status line. */
    private static String post(InetSocketAddress target) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(target, IO_TIMEOUT_MS);
            s.setSoTimeout(IO_TIMEOUT_MS);
            OutputStream o = s.getOutputStream();
            o.write(("POST /drain HTTP/1.0\r\nHost: " + target.getHostString() + "\r\nContent-Length: 0\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            o.flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) != -1 && c != '\n' && line.length() < 1024) {
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            if (line.length() == 0) {
                throw new IOException("connection closed without an answer");
            }
            return line.toString();
        }
    }
}
