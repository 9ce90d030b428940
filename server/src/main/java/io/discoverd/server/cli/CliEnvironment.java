package io.discoverd.server.cli;

import java.util.List;
import java.util.Map;

/**
 * What the client subcommands take from the process rather than from their flags: the environment
 * ({@code DISCOVERD}) and the signal that ends a holding command. Implemented by the top-level
 * command, so that tests can run the whole command line in-process with their own values.
 */
public interface CliEnvironment {

    /** What {@code --version} prints, for every command. */
    String VERSION = "discoverd 0.1.0";

    /** The environment variables, e.g. {@link System#getenv()}. */
    Map<String, String> environment();

    /** Ends {@code register}, {@code watch} and {@code leader --follow}. */
    StopSignal stopSignal();

    /**
     * The daemon-only flags given before the subcommand ({@code discoverd --config F watch web}),
     * which any subcommand other than {@code serve} must reject rather than silently ignore.
     */
    default List<String> serveFlagsGiven() {
        return List.of();
    }

    /**
     * The usage error for {@code command} when {@link #serveFlagsGiven()} is not empty, else {@code null}.
     */
    default String serveFlagsError(String command) {
        List<String> given = serveFlagsGiven();
        return given.isEmpty() ? null : "discoverd " + command + ": " + String.join(" and ", given)
                + " before the command configure the daemon ('serve') only; remove "
                + (given.size() == 1 ? "it" : "them") + " (the daemon to talk to is --discoverd)";
    }
}
