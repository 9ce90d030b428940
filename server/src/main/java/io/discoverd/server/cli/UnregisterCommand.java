package io.discoverd.server.cli;

import io.discoverd.client.DiscoverdClient;
import io.discoverd.client.DiscoverdException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code discoverd unregister}: takes an instance offline at once, whoever registered it. Prints
 * nothing on success. An instance the daemon does not hold is exit status 3 (not found), with the
 * daemon's text ({@code 100: Key not found (...)}) in the message.
 */
@Command(name = "unregister",
        description = "Takes an instance offline at once (whoever registered it). Prints nothing on success.",
        exitCodeList = {ExitCodes.LIST_OK, ExitCodes.LIST_FAILED, ExitCodes.LIST_USAGE,
                "3:the daemon holds no such instance", ExitCodes.LIST_UNAVAILABLE})
public final class UnregisterCommand extends ClientCommand {

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "The service name.")
    String name;

    @Option(names = "--addr", required = true, paramLabel = "ADDR",
            description = "The address, as registered (:8080) or as expanded (10.0.0.1:8080).")
    String addr;

    @Override
    protected int run(DiscoverdClient client) throws DiscoverdException {
        try {
            client.unregister(name, addr);
        } catch (DiscoverdException e) {
            if (e.isNotFound()) {
                err.println("discoverd: no instance " + name + " " + addr + " to unregister (the daemon said: "
                        + e.serverMessage() + ")");
                return ExitCodes.NOT_FOUND;
            }
            throw e;
        }
        return ExitCodes.OK;
    }
}
