package io.discoverd.backend.zookeeper;

import io.discoverd.backend.BackendContext;
import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryBackendProvider;
import java.nio.charset.StandardCharsets;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * The {@code zookeeper} backend ({@code backend: zookeeper} in {@code conf/discoverd.yaml}), found
 * with {@link java.util.ServiceLoader}.
 *
 * <p>Config section {@code zookeeper} (all optional):
 * <ul>
 *   <li>{@code connect}: {@code embedded} (default) or an ensemble connect string, chroot suffix
 *       allowed ({@code zk1:2181,zk2:2181/discoverd});</li>
 *   <li>{@code embedded.port}: client port of the embedded server on 127.0.0.1 (default 2181); its
 *       files live in {@code <dataDir>/zookeeper};</li>
 *   <li>{@code root}: root path of the store layout (default {@code /discoverd});</li>
 *   <li>{@code sessionTimeout}: ZooKeeper session timeout, separate from the TTL (default 15 s);</li>
 *   <li>{@code connectionTimeout}: how long a store call may wait for a connection (default 5 s);</li>
 *   <li>{@code auth}: {@code {scheme: digest, user: u, password: p}}, added to the session.</li>
 * </ul>
 *
 * <p>Thread-safe and stateless.
 */
public final class ZooKeeperBackendProvider implements DiscoveryBackendProvider {

    /** Creates the provider; {@link java.util.ServiceLoader} needs this public constructor. */
    public ZooKeeperBackendProvider() {
    }

    /** {@inheritDoc} Always {@code "zookeeper"}. */
    @Override
    public String name() {
        return "zookeeper";
    }

    /**
     * Creates and starts the backend: starts the embedded server when configured (blocks the
     * start-up thread until it serves, typically under 1 s), then starts Curator without waiting
     * for the connection; until connected, writes fail fast with
     * {@link io.discoverd.backend.DiscoveryException.StoreUnavailable}. Resumes the session recorded
     * in {@code <dataDir>/zookeeper-session.properties} by the previous run on the same store, and
     * adopts the instances and latch participants it still holds (ARCHITECTURE.md "Liveness").
     *
     * @throws IllegalArgumentException when the section is invalid; the message names the field
     * @throws IllegalStateException    when the embedded server cannot start (e.g. its port is taken)
     */
    @Override
    public DiscoveryBackend create(BackendContext context) {
        ZooKeeperConfig cfg = ZooKeeperConfig.parse(context.config());
        EmbeddedZooKeeper embedded = null;
        String hosts = cfg.hosts();
        String description = cfg.connect();
        if (cfg.embedded()) {
            embedded = EmbeddedZooKeeper.start(context.dataDir().resolve("zookeeper"), cfg.embeddedPort(), cfg.sessionTimeout());
            hosts = embedded.connectString();
            description = "embedded " + hosts;
        }
        try {
            String store = hosts + (cfg.embedded() || cfg.namespace() == null ? "" : "/" + cfg.namespace());
            ResumingZookeeperFactory factory =
                    new ResumingZookeeperFactory(SavedSession.load(context.dataDir(), store).orElse(null));
            CuratorFrameworkFactory.Builder b = CuratorFrameworkFactory.builder()
                    .zookeeperFactory(factory)
                    .connectString(hosts)
                    .sessionTimeoutMs(Math.toIntExact(cfg.sessionTimeout().toMillis()))
                    .connectionTimeoutMs(Math.toIntExact(cfg.connectionTimeout().toMillis()))
                    .retryPolicy(new ExponentialBackoffRetry(100, 3, 1000));
            if (!cfg.embedded() && cfg.namespace() != null) {
                b.namespace(cfg.namespace());
            }
            if (cfg.auth() != null) {
                b.authorization(cfg.auth().scheme(),
                        (cfg.auth().user() + ":" + cfg.auth().password()).getBytes(StandardCharsets.UTF_8));
            }
            CuratorFramework client = b.build();
            ZooKeeperBackend backend = new ZooKeeperBackend(client, description, cfg.root(), context.registrationTtl(),
                    cfg.connectionTimeout(), embedded, new ZooKeeperBackend.Session(factory, context.dataDir(), store));
            backend.start();
            return backend;
        } catch (RuntimeException e) {
            if (embedded != null) {
                embedded.close();
            }
            throw e;
        }
    }
}
