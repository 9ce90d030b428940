package io.discoverd.server.cli;

import io.discoverd.client.ConnectionState;
import io.discoverd.client.DiscoverdClient;
import io.discoverd.client.DiscoverdException;
import io.discoverd.client.ListenerHandle;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * The common part of the subcommands that talk to a daemon through the client library: the
 * {@code --discoverd} flag, connecting, and turning every failure into one line on stderr and an
 * exit status of {@link ExitCodes}. Results go to stdout, everything else to stderr.
 *
 * <p>Its {@code @Command} attributes are picocli defaults for every subcommand; a subclass's own
 * {@code @Command} adds its name, description and exit codes.
 */
@Command(mixinStandardHelpOptions = true, version = CliEnvironment.VERSION, sortOptions = false,
        exitCodeListHeading = ExitCodes.HEADING)
public abstract class ClientCommand implements Callable<Integer> {

    /** How often a holding command checks that its listener is still served. */
    private static final Duration POLL = Duration.ofMillis(200);

    @Spec
    CommandSpec spec;

    /** Set by picocli when the command runs under {@code discoverd}; else the process's own. */
    @ParentCommand
    CliEnvironment cli;

    @Option(names = "--discoverd", paramLabel = "HOST:PORT",
            description = "The daemon (default: $DISCOVERD, else 127.0.0.1:1111).")
    String daemon;

    /** Standard output: results only. */
    protected PrintWriter out;
    /** Standard error: errors and status. */
    protected PrintWriter err;
    /** The daemon, {@code host:port}. */
    protected String daemonAddress;

    /**
     * Does the command's work on a connected client, which is closed afterwards.
     *
     * @return the exit status
     * @throws DiscoverdException any failure of the client, reported by {@link #call()}
     */
    protected abstract int run(DiscoverdClient client) throws DiscoverdException;

    @Override
    public final Integer call() {
        out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        if (cli == null) {
            cli = new CliEnvironment() {
                private final StopSignal stop = StopSignal.onSignals();

                @Override
                public Map<String, String> environment() {
                    return System.getenv();
                }

                @Override
                public StopSignal stopSignal() {
                    return stop;
                }
            };
        }
        try {
            String misplaced = cli.serveFlagsError(spec.name());
            if (misplaced != null) {
                err.println(misplaced);
                return ExitCodes.USAGE;
            }
            DiscoverdClient.Builder builder = DiscoverdClient.builder().environment(cli.environment()).address(daemon);
            try {
                daemonAddress = builder.daemonAddress();
            } catch (IllegalArgumentException e) {
                err.println("discoverd: invalid daemon address (--discoverd or DISCOVERD): " + e.getMessage());
                return ExitCodes.USAGE;
            }
            DiscoverdClient client;
            try {
                client = builder.build();
            } catch (DiscoverdException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                String why = cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
                err.println("discoverd: cannot reach the daemon at " + daemonAddress + ": " + why);
                return e.kind() == DiscoverdException.Kind.INTERRUPTED ? ExitCodes.FAILED : ExitCodes.UNAVAILABLE;
            }
            try (client) {
                return run(client);
            } catch (DiscoverdException e) {
                err.println(describe(e));
                return exitCode(e);
            }
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** The exit status for a failed call: a store the daemon cannot reach is as unavailable as the daemon. */
    protected static int exitCode(DiscoverdException e) {
        switch (e.kind()) {
            case DISCONNECTED:
            case TIMEOUT:
                return ExitCodes.UNAVAILABLE;
            case SERVER_ERROR:
                return e.serverMessage() != null && e.serverMessage().startsWith(ExitCodes.STORE_UNAVAILABLE)
                        ? ExitCodes.UNAVAILABLE : ExitCodes.FAILED;
            default:
                return ExitCodes.FAILED;
        }
    }

    /** The one-line message for a failed call. */
    protected String describe(DiscoverdException e) {
        if (e.kind() == DiscoverdException.Kind.DISCONNECTED) {
            return "discoverd: lost the connection to the daemon at " + daemonAddress;
        }
        // The daemon's own texts are API (PROTOCOL.md Appendix A) and most already name discoverd.
        String text = e.kind() == DiscoverdException.Kind.SERVER_ERROR && e.serverMessage() != null
                ? e.serverMessage() : String.valueOf(e.getMessage());
        return text.startsWith("discoverd") ? text : "discoverd: " + text;
    }

    /**
     * Reports on stderr when the connection drops and when it is back (the client reconnects,
     * resumes heartbeats and resubscribes on its own).
     *
     * @return the handle that ends the reports
     */
    protected final ListenerHandle reportConnection(DiscoverdClient client) {
        AtomicBoolean lost = new AtomicBoolean();
        return client.watchConnectionState(s -> {
            if (s == ConnectionState.DISCONNECTED && lost.compareAndSet(false, true)) {
                err.println("discoverd: lost the connection to the daemon at " + daemonAddress + ", reconnecting");
                err.flush();
            } else if (s == ConnectionState.CONNECTED && lost.compareAndSet(true, false)) {
                err.println("discoverd: reconnected to the daemon at " + daemonAddress);
                err.flush();
            }
        });
    }

    /** Why {@link #awaitStop} returned. */
    protected enum Stop {
        /** SIGINT, SIGTERM or SIGHUP. */
        SIGNAL,
        /** The listener was cancelled: it fell too far behind, its output is not being read. */
        LISTENER_CANCELLED,
        /** Standard output is closed (its reader is gone, e.g. {@code | head -1}): nothing more to say. */
        OUTPUT_CLOSED
    }

    /**
     * Blocks until the stop signal (SIGINT, SIGTERM, SIGHUP), or, when {@code served} is given, until
     * it is cancelled or stdout is closed. The JVM ignores SIGPIPE and a {@link PrintWriter} swallows
     * write errors, so a closed pipe is seen only by {@link PrintWriter#checkError()}, polled here.
     *
     * @param served a listener that must stay active and whose output goes to stdout, or {@code null}
     * @return why it returned
     * @throws DiscoverdException {@code INTERRUPTED} when the thread is interrupted
     */
    protected final Stop awaitStop(ListenerHandle served) throws DiscoverdException {
        try {
            while (!cli.stopSignal().await(POLL)) {
                if (served != null && !served.isActive()) {
                    return Stop.LISTENER_CANCELLED;
                }
                if (served != null && out.checkError()) {
                    return Stop.OUTPUT_CLOSED;
                }
            }
            return Stop.SIGNAL;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DiscoverdException(DiscoverdException.Kind.INTERRUPTED, "discoverd: interrupted", null, e);
        }
    }
}
