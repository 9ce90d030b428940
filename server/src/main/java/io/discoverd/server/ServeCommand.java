package io.discoverd.server;

import io.discoverd.server.cli.CliEnvironment;
import io.discoverd.server.cli.ExitCodes;
import io.discoverd.server.config.ConfigException;
import io.discoverd.server.config.ConfigLoader;
import io.discoverd.server.config.DaemonConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code discoverd serve}, also what {@code discoverd} does without a subcommand: reads the
 * configuration, starts a {@link Daemon} and runs it until the JVM is asked to stop (SIGTERM,
 * Ctrl-C), then stops it within a bounded time.
 *
 * <p>{@code --config} and {@code --bind} may also be given before the subcommand
 * ({@code discoverd --config F serve}); flags after it win.
 *
 * <p>Exit status: 0 after a drain ({@code POST /drain}); 143 after a stop by SIGTERM and 130 after
 * Ctrl-C (the JVM's own status for a signal, after the shutdown hook has stopped the daemon); 2 for
 * invalid flags or configuration (the message names the field), a {@code transport} this host cannot
 * run included; 1 when the daemon cannot start for another reason (a locked data directory, a port
 * in use).
 */
@Command(name = "serve", mixinStandardHelpOptions = true, version = CliEnvironment.VERSION,
        description = "Runs the daemon (the default when no subcommand is given).",
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {"0:stopped by a drain (POST /drain)",
                "1:the daemon cannot start (data directory locked, port in use, ...)",
                "2:invalid flags or configuration (a transport this host cannot run included)",
                "130:stopped by Ctrl-C (SIGINT)",
                "143:stopped by SIGTERM"})
final class ServeCommand implements Callable<Integer> {

    @ParentCommand
    Main parent;

    @Option(names = "--config", paramLabel = "PATH",
            description = "Config file (default: conf/discoverd.yaml; when that default is missing, all defaults apply).")
    Path config;

    @Option(names = "--bind", paramLabel = "HOST:PORT",
            description = "Listen address, overriding 'bind' (e.g. :1111, 127.0.0.1:1112).")
    String bind;

    @Override
    public Integer call() {
        return serve(config != null ? config : parent.config, bind != null ? bind : parent.bind);
    }

    /** Runs the daemon until it stops; returns the exit status. */
    static int serve(Path config, String bind) {
        DaemonConfig cfg;
        try {
            Path file = config != null ? config : ConfigLoader.DEFAULT_PATH;
            cfg = ConfigLoader.load(file, config != null, bind, System.getenv(), Backends.installedNames());
        } catch (ConfigException e) {
            System.err.println("discoverd: invalid configuration: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        Logger log = LoggerFactory.getLogger(Main.class);
        Daemon daemon;
        try {
            daemon = Daemon.start(cfg);
        } catch (DaemonStartException e) {
            log.error("discoverd cannot start: {}", e.getMessage());
            return e.exitCode();
        }
        Runtime.getRuntime().addShutdownHook(new Thread(daemon::close, "discoverd-shutdown"));
        daemon.awaitClosed();
        return ExitCodes.OK;
    }
}
