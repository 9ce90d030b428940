package io.discoverd.server.cli;

import io.discoverd.client.DiscoverdClient;
import io.discoverd.client.DiscoverdException;
import io.discoverd.client.ServiceInstance;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code discoverd services}: lists a service's online instances, oldest first (the first is the
 * leader), as a table or as JSON ({@link Render}).
 *
 * <p>A service without online instances is not an error: v1 has no notion of a declared service,
 * so "unknown" and "empty" are the same thing. The table is then its header alone and the JSON
 * {@code []}, with exit status 0 (as {@code etcdctl get} and {@code consul catalog} do); the table
 * adds a note on stderr. Scripts that need "at least one" test {@code discoverd leader}'s status.
 */
@Command(name = "services",
        description = {"Lists a service's online instances, oldest first (the first one is the leader).",
                "None online: the table's header alone (and a note on stderr), or '[]'; exit status 0."},
        exitCodeList = {"0:success, also when no instance is online", ExitCodes.LIST_FAILED, ExitCodes.LIST_USAGE, ExitCodes.LIST_UNAVAILABLE})
public final class ServicesCommand extends ClientCommand {

    @Parameters(index = "0", paramLabel = "NAME", description = "The service name.")
    String name;

    @Option(names = "--json", description = "Print a JSON array of {name, addr, attrs, created}, one object per line.")
    boolean json;

    @Override
    protected int run(DiscoverdClient client) throws DiscoverdException {
        List<ServiceInstance> instances = client.services(name);
        if (json) {
            out.print(Render.jsonArray(instances));
        } else {
            out.print(Render.table(instances));
            out.flush(); // the note comes after the header on a terminal
            if (instances.isEmpty()) {
                err.println("discoverd: no online instance of " + name);
            }
        }
        return ExitCodes.OK;
    }
}
