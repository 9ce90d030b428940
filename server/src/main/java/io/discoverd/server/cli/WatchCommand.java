package io.discoverd.server.cli;

import io.discoverd.client.DiscoverdClient;
import io.discoverd.client.DiscoverdException;
import io.discoverd.client.ListenerHandle;
import io.discoverd.client.ServiceSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code discoverd watch}: prints a service's instances (oldest first), then every change as it
 * happens, one line each ({@link Render#event}), until SIGINT, SIGTERM or SIGHUP, or until stdout is
 * closed (its reader went away: {@code discoverd watch web | head -1} ends, status 0). Across a lost
 * connection it keeps going: once the client has reconnected it prints only what changed meanwhile.
 */
@Command(name = "watch",
        description = {"Prints a service's online instances, then every change, one line each, until interrupted.",
                "Lines: 'online  ADDR created=N ATTRS' or 'offline ADDR created=N ATTRS'."},
        exitCodeList = {"0:stopped by SIGINT/SIGTERM/SIGHUP, or stdout was closed (e.g. '| head -1')", "1:the output was not read fast enough (over 10000 lines behind)",
                ExitCodes.LIST_USAGE, ExitCodes.LIST_UNAVAILABLE})
public final class WatchCommand extends ClientCommand {

    @Parameters(index = "0", paramLabel = "NAME", description = "The service name.")
    String name;

    @Option(names = "--json", description = "Print one JSON object per line: {name, addr, online, attrs, created}.")
    boolean json;

    @Override
    protected int run(DiscoverdClient client) throws DiscoverdException {
        try (ServiceSet set = client.serviceSet(name);
             ListenerHandle connection = reportConnection(client);
             ListenerHandle watch = set.watch(true, i -> {
                 out.println(json ? Render.json(i, true) : Render.event(i));
                 out.flush();
             })) {
            if (awaitStop(watch) == Stop.LISTENER_CANCELLED) {
                err.println("discoverd: watch of " + name + " stopped: its output fell too far behind");
                return ExitCodes.FAILED;
            }
        }
        return ExitCodes.OK;
    }
}
