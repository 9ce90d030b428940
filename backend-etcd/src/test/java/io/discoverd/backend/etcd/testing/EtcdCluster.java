package io.discoverd.backend.etcd.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A real etcd cluster of several members on loopback, for fault tests: each member its own
 * {@link EtcdProcess} (stop, kill and start it alone; quorum is the test's business).
 *
 * <p>Not thread-safe: one test thread drives it.
 */
public final class EtcdCluster implements AutoCloseable {

    private final List<EtcdProcess> members;

    private EtcdCluster(List<EtcdProcess> members) {
        this.members = members;
    }

    /**
     * Starts {@code size} members together and waits until every one serves.
     *
     * @throws IllegalStateException when etcd is not installed or a member does not become ready
     */
    public static EtcdCluster start(int size) {
        List<EtcdProcess> ms = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            ms.add(EtcdProcess.create("etcd" + i));
        }
        String initial = ms.stream().map(m -> m.name() + "=" + m.peerUrl()).collect(Collectors.joining(","));
        EtcdCluster c = new EtcdCluster(List.copyOf(ms));
        try {
            String token = "discoverd-test-cluster-" + java.util.UUID.randomUUID();
            for (EtcdProcess m : ms) {
                m.initialCluster(initial);
                m.clusterToken(token);
                m.start();
            }
            for (EtcdProcess m : ms) {
                m.awaitReady();
            }
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The members, in start order. */
    public List<EtcdProcess> members() {
        return members;
    }

    /** Every member's client URL, comma-separated, in start order. */
    public String endpoints() {
        return members.stream().map(EtcdProcess::endpoint).collect(Collectors.joining(","));
    }

    /** Stops every member and deletes their directories. */
    @Override
    public void close() {
        for (EtcdProcess m : members) {
            m.close();
        }
    }
}
