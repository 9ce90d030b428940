package io.discoverd.server.cli;

import io.discoverd.client.DiscoverdClient;
import io.discoverd.client.DiscoverdException;
import io.discoverd.client.ListenerHandle;
import io.discoverd.client.ServiceInstance;
import io.discoverd.client.ServiceSet;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code discoverd leader}: prints a service's leader, its online instance with the smallest
 * {@code created} (PROTOCOL.md §6.2, computed from a subscription, so it works against the
 * original daemon too). No online instance: nothing on stdout, a message on stderr, status 3. With
 * {@code --follow}: the current leader, then each new one, {@code (no leader)} while there is none,
 * until SIGINT, SIGTERM or SIGHUP, or until stdout is closed (status 0).
 */
@Command(name = "leader",
        description = {"Prints a service's leader (its oldest online instance): 'ADDR created=N ATTRS'.",
                "With --follow, prints each new leader ('(no leader)' while there is none) until interrupted."},
        exitCodeList = {"0:success; --follow: stopped by SIGINT/SIGTERM/SIGHUP, or stdout was closed", ExitCodes.LIST_FAILED, ExitCodes.LIST_USAGE,
                "3:no leader: the service has no online instance (not with --follow)", ExitCodes.LIST_UNAVAILABLE})
public final class LeaderCommand extends ClientCommand {

    @Parameters(index = "0", paramLabel = "NAME", description = "The service name.")
    String name;

    @Option(names = {"-f", "--follow"}, description = "Keep printing each new leader until interrupted.")
    boolean follow;

    @Option(names = "--json", description = "Print the leader as a JSON object {name, addr, attrs, created}; with --follow, null while there is none.")
    boolean json;

    @Override
    protected int run(DiscoverdClient client) throws DiscoverdException {
        if (!follow) {
            // The one-shot listing (oldest first), which tells an empty service from a daemon that
            // could not list it (its store unreachable): the leader is the oldest instance.
            Optional<ServiceInstance> leader = client.services(name).stream().findFirst();
            if (leader.isEmpty()) {
                err.println("discoverd: no leader for " + name + ": it has no online instance");
                return ExitCodes.NOT_FOUND;
            }
            out.println(format(leader));
            return ExitCodes.OK;
        }
        try (ServiceSet set = client.serviceSet(name)) {
            try (ListenerHandle connection = reportConnection(client);
                 ListenerHandle leaders = set.watchLeader(l -> {
                     out.println(format(l));
                     out.flush();
                 })) {
                awaitStop(leaders);
            }
            return ExitCodes.OK;
        }
    }

    private String format(Optional<ServiceInstance> leader) {
        return json ? Render.jsonLeader(leader) : Render.leader(leader);
    }
}
