package io.discoverd.server.cli;

import io.discoverd.client.DiscoverdClient;
import io.discoverd.client.DiscoverdException;
import io.discoverd.client.ListenerHandle;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code discoverd register}: registers an instance, prints the address the daemon expanded, and
 * holds the registration (the client heartbeats every 5 s) until SIGINT, SIGTERM or SIGHUP; then
 * unregisters it and exits 0. If the daemon goes away meanwhile the registration is resumed when it
 * is back. If the process dies without unregistering, the instance expires after the daemon's TTL.
 */
@Command(name = "register",
        description = {"Registers an instance and holds it online (heartbeating) until interrupted, then unregisters it.",
                "Prints the address as the daemon expanded it (':8080' becomes EXTERNAL_IP:8080)."},
        exitCodeList = {"0:unregistered after SIGINT/SIGTERM (or found offline already)", ExitCodes.LIST_FAILED,
                ExitCodes.LIST_USAGE, ExitCodes.LIST_UNAVAILABLE})
public final class RegisterCommand extends ClientCommand {

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "The service name.")
    String name;

    @Option(names = "--addr", required = true, paramLabel = "ADDR",
            description = "ip:port, or :port for the daemon to prefix with its EXTERNAL_IP.")
    String addr;

    @Option(names = "--attr", paramLabel = "KEY=VALUE", description = "An attribute; repeatable.")
    Map<String, String> attrs;

    @Override
    protected int run(DiscoverdClient client) throws DiscoverdException {
        // Before the Register: a signal arriving between its reply and the wait must still unregister.
        cli.stopSignal().arm();
        String expanded = client.register(name, addr, attrs);
        out.println(expanded);
        out.flush();
        try (ListenerHandle connection = reportConnection(client)) {
            awaitStop(null);
        }
        try {
            client.unregister(name, expanded);
        } catch (DiscoverdException e) {
            if (e.isNotFound()) {
                // Unregistered by someone else since the last heartbeat: offline already, as asked.
                err.println("discoverd: " + name + " " + expanded + " was already offline (the daemon said: "
                        + e.serverMessage() + ")");
                return ExitCodes.OK;
            }
            err.println("discoverd: could not unregister " + name + " " + expanded + " (" + describe(e)
                    + "); it goes offline when its registration expires");
            return exitCode(e);
        }
        err.println("discoverd: unregistered " + name + " " + expanded);
        return ExitCodes.OK;
    }
}
