package io.discoverd.server.cli;

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
}
