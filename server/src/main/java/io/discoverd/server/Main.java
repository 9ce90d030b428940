package io.discoverd.server;

import io.discoverd.server.cli.CliEnvironment;
import io.discoverd.server.cli.ClientCommand;
import io.discoverd.server.cli.ExitCodes;
import io.discoverd.server.cli.LeaderCommand;
import io.discoverd.server.cli.RegisterCommand;
import io.discoverd.server.cli.ServicesCommand;
import io.discoverd.server.cli.StopSignal;
import io.discoverd.server.cli.UnregisterCommand;
import io.discoverd.server.cli.WatchCommand;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Option;

/**
 * The {@code discoverd} executable: the daemon ({@code serve}, the default when no subcommand is
 * given, so {@code discoverd --config F --bind A} runs it as it always did) and the operator's
 * client subcommands {@code register}, {@code unregister}, {@code services}, {@code watch},
 * {@code leader}, plus {@code drain}.
 *
 * <p>The client subcommands talk to the daemon named by {@code --discoverd HOST:PORT}, else the
 * {@code DISCOVERD} environment variable, else {@code 127.0.0.1:1111}. They print results on stdout
 * and everything else (errors, connection status, the client library's warnings) on stderr; they
 * never start logback, so the daemon's console logging cannot reach their stdout.
 *
 * <p>Exit status (also in {@code --help}; constants in {@link ExitCodes}):
 * <ul>
 *   <li>0: success; a holding command ({@code register}, {@code watch}, {@code leader --follow})
 *       ended by SIGINT, SIGTERM or SIGHUP, after cleaning up ({@code register} unregisters);
 *       {@code watch}, {@code leader --follow}: stdout was closed (e.g. {@code | head -1});
 *       {@code serve}: the daemon stopped after a drain;</li>
 *   <li>1: the daemon answered with an error (e.g. {@code discoverd: Addr must be set});
 *       {@code serve}: the daemon cannot start (a locked data directory, a port in use);
 *       {@code drain}: refused, or still listening after {@code --timeout};</li>
 *   <li>2: invalid flags, daemon address or configuration (the message names the field);</li>
 *   <li>3: not found: {@code leader} of a service without online instances, {@code unregister} of
 *       an instance the daemon does not hold ({@code services} of an empty service is 0);</li>
 *   <li>4: the daemon or its store is unavailable: it cannot be reached, the connection was lost,
 *       it did not answer in time, or it answered {@code discoverd: store unavailable: …} (worth a
 *       retry);</li>
 *   <li>130, 143: {@code serve} stopped by Ctrl-C or SIGTERM (the JVM's own status for a signal,
 *       after the shutdown hook has stopped the daemon).</li>
 * </ul>
 */
@Command(name = "discoverd", mixinStandardHelpOptions = true, version = CliEnvironment.VERSION,
        description = {"Service discovery daemon speaking the discoverd v1 wire protocol, and its command-line client.",
                "Without a command, runs the daemon (the same as 'discoverd serve')."},
        commandListHeading = "%nCommands:%n",
        subcommands = {ServeCommand.class, RegisterCommand.class, UnregisterCommand.class, ServicesCommand.class,
                WatchCommand.class, LeaderCommand.class, DrainCommand.class, HelpCommand.class},
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {"0:success; register, watch, leader --follow: stopped by SIGINT/SIGTERM/SIGHUP; watch, leader --follow: stdout closed; serve: drained",
                "1:the daemon answered with an error; serve: cannot start; drain: refused",
                "2:invalid flags, daemon address or configuration; --config/--bind before a command other than serve",
                "3:not found: no leader (no online instance); unregister of an unknown instance",
                "4:the daemon or its store is unavailable (cannot be reached, connection lost, no answer in time, store unavailable)",
                "130:serve stopped by Ctrl-C (SIGINT)",
                "143:serve stopped by SIGTERM"},
        footerHeading = "%nEnvironment:%n",
        footer = {"  DISCOVERD     client commands: the daemon when --discoverd is not given",
                "                (host:port; default 127.0.0.1:1111)",
                "  EXTERNAL_IP   serve: the IP that ':port' addresses are expanded with"})
public final class Main implements Callable<Integer>, CliEnvironment {

    /** Exit status for invalid flags or configuration. */
    public static final int EXIT_CONFIG = ExitCodes.USAGE;

    @Option(names = "--config", paramLabel = "PATH",
            description = "serve: config file (default: conf/discoverd.yaml; when that default is missing, all defaults apply).")
    Path config;

    @Option(names = "--bind", paramLabel = "HOST:PORT",
            description = "serve: listen address, overriding 'bind' (e.g. :1111, 127.0.0.1:1112).")
    String bind;

    /** Held: java.util.logging keeps only weak references to its loggers, and with them their settings. */
    private static java.util.logging.Logger clientLogger;

    private final Map<String, String> environment;
    private final StopSignal stopSignal;

    /** The command for this process: its environment, and SIGINT/SIGTERM/SIGHUP as the stop signal. */
    public Main() {
        this(System.getenv(), StopSignal.onSignals());
    }

    /** The command with the given environment and stop signal (tests run the command line in-process). */
    public Main(Map<String, String> environment, StopSignal stopSignal) {
        this.environment = Map.copyOf(environment);
        this.stopSignal = Objects.requireNonNull(stopSignal, "stopSignal");
    }

    /** Runs the command line, then exits the JVM with the exit status. */
    public static void main(String[] args) {
        CommandLine cmd = new CommandLine(new Main());
        // Over System.out itself, so that checkError() sees a closed pipe (`discoverd watch web | head -1`):
        // the JVM ignores SIGPIPE and System.out only records the failed write.
        String enc = System.getProperty("sun.stdout.encoding");
        cmd.setOut(new PrintWriter(System.out, true, enc != null && Charset.isSupported(enc) ? Charset.forName(enc) : Charset.defaultCharset()));
        cmd.setExecutionStrategy(parsed -> {
            List<CommandLine> chosen = parsed.asCommandLineList();
            if (chosen.get(chosen.size() - 1).getCommand() instanceof ClientCommand) {
                clientLogging();
            }
            return new CommandLine.RunLast().execute(parsed);
        });
        int code = cmd.execute(args);
        // Also after a drain: the daemon has stopped, nothing may keep the JVM alive.
        System.exit(code);
    }

    @Override
    public Integer call() {
        return ServeCommand.serve(config, bind);
    }

    @Override
    public Map<String, String> environment() {
        return environment;
    }

    @Override
    public StopSignal stopSignal() {
        return stopSignal;
    }

    @Override
    public List<String> serveFlagsGiven() {
        List<String> given = new java.util.ArrayList<>();
        if (config != null) {
            given.add("--config");
        }
        if (bind != null) {
            given.add("--bind");
        }
        return given;
    }

    /**
     * The client library logs through {@code System.Logger}, i.e. java.util.logging, whose console
     * handler writes to stderr in two lines per record; for a command line, one line per warning.
     */
    private static void clientLogging() {
        java.util.logging.Logger client = java.util.logging.Logger.getLogger("io.discoverd.client");
        clientLogger = client;
        client.setUseParentHandlers(false);
        client.setLevel(Level.WARNING);
        ConsoleHandler stderr = new ConsoleHandler();
        stderr.setLevel(Level.WARNING);
        stderr.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                return formatMessage(r) + System.lineSeparator();
            }
        });
        client.addHandler(stderr);
    }
}
