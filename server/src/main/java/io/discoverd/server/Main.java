package io.discoverd.server;

import io.discoverd.server.config.ConfigException;
import io.discoverd.server.config.ConfigLoader;
import io.discoverd.server.config.DaemonConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code discoverd} command: reads the configuration, starts a {@link Daemon} and runs it until
 * the JVM is asked to stop (SIGTERM, Ctrl-C), then stops it within a bounded time.
 *
 * <p>Subcommand {@code drain} ({@link DrainCommand}) asks a running daemon on this host to drain.
 *
 * <p>Exit status: 0 after a drain ({@code POST /drain}); 143 after a stop by SIGTERM and 130 after
 * Ctrl-C (the JVM's own status for a signal, after the shutdown hook has stopped the daemon); 2 for
 * invalid flags or configuration (the message names the field); 1 when the daemon cannot start for
 * another reason (a locked data directory, a port in use).
 */
@Command(name = "discoverd", mixinStandardHelpOptions = true, version = "discoverd 0.1.0",
        description = "Service discovery daemon speaking the discoverd v1 wire protocol.",
        subcommands = DrainCommand.class)
public final class Main implements Callable<Integer> {

    /** Exit status for invalid flags or configuration. */
    public static final int EXIT_CONFIG = 2;

    @Option(names = "--config", paramLabel = "PATH",
            description = "Config file (default: conf/discoverd.yaml; when that default is missing, all defaults apply).")
    Path config;

    @Option(names = "--bind", paramLabel = "HOST:PORT",
            description = "Listen address, overriding 'bind' (e.g. :1111, 127.0.0.1:1112).")
    String bind;

    /** Runs the daemon (or a subcommand), then exits the JVM with the exit status. */
    public static void main(String[] args) {
        int code = new CommandLine(new Main()).execute(args);
        // Also after a drain: the daemon has stopped, nothing may keep the JVM alive.
        System.exit(code);
    }

    @Override
    public Integer call() {
        DaemonConfig cfg;
        try {
            Path file = config != null ? config : ConfigLoader.DEFAULT_PATH;
            cfg = ConfigLoader.load(file, config != null, bind, System.getenv(), Backends.installedNames());
        } catch (ConfigException e) {
            System.err.println("discoverd: invalid configuration: " + e.getMessage());
            return EXIT_CONFIG;
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
        return 0;
    }
}
