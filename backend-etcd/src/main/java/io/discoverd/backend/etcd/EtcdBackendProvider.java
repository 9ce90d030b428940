package io.discoverd.backend.etcd;

import io.discoverd.backend.BackendContext;
import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryBackendProvider;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLException;

/**
 * The {@code etcd} backend ({@code backend: etcd} in {@code conf/discoverd.yaml}), found with
 * {@link java.util.ServiceLoader}.
 *
 * <p>Config section {@code etcd} (all optional):
 * <ul>
 *   <li>{@code endpoints}: list of client URLs (default {@code [http://127.0.0.1:2379]});</li>
 *   <li>{@code prefix}: key prefix of the store layout (default {@code /discoverd});</li>
 *   <li>{@code connectTimeout}: how long opening a connection to a member may take (default 5 s);</li>
 *   <li>{@code requestTimeout}: how long one store call may take (default 5 s);</li>
 *   <li>{@code user}, {@code password}: etcd authentication, both or neither;</li>
 *   <li>{@code tls}: {@code {caFile, certFile, keyFile}} PEM files (client certificate optional).</li>
 * </ul>
 *
 * <p>Thread-safe and stateless.
 */
public final class EtcdBackendProvider implements DiscoveryBackendProvider {

    /** Creates the provider; {@link java.util.ServiceLoader} needs this public constructor. */
    public EtcdBackendProvider() {
    }

    /** {@inheritDoc} Always {@code "etcd"}. */
    @Override
    public String name() {
        return "etcd";
    }

    /**
     * Creates the jetcd client on the daemon's Vert.x instance and starts the backend. Waits for the
     * first reachability probe's answer (at most 2 s; an etcd that is down answers at once) but never
     * for etcd to come up: until it answers, calls fail fast with
     * {@link io.discoverd.backend.DiscoveryException.StoreUnavailable} naming the endpoints.
     *
     * @throws IllegalArgumentException when the section is invalid; the message names the field
     */
    @Override
    public DiscoveryBackend create(BackendContext context) {
        EtcdConfig cfg = EtcdConfig.parse(context.config());
        ClientBuilder b = Client.builder()
                .endpoints(cfg.endpoints().toArray(String[]::new))
                .vertx(context.vertx())
                .connectTimeout(cfg.connectTimeout())
                // Fail fast while no member is reachable rather than queue calls until one is;
                // one short retry rides over a member that just went away.
                .waitForReady(false)
                .retryMaxAttempts(2)
                .retryDelay(50)
                .retryMaxDelay(200)
                // No limit on an answer's size, as etcd's Go client (clientv3: MaxCallRecvMsgSize is
                // math.MaxInt32): gRPC's default of 4 MiB would fail every read of a service of, say,
                // 80 instances with 60 KiB of attrs each, and every watch answer that large.
                .maxInboundMessageSize(Integer.MAX_VALUE);
        if (cfg.user() != null) {
            b.user(ByteSequence.from(cfg.user(), StandardCharsets.UTF_8))
                    .password(ByteSequence.from(cfg.password(), StandardCharsets.UTF_8));
        }
        if (cfg.usesTls()) {
            try {
                b.sslContext(ssl -> {
                    if (cfg.tls() != null && cfg.tls().caFile() != null) {
                        ssl.trustManager(cfg.tls().caFile().toFile());
                    }
                    if (cfg.tls() != null && cfg.tls().certFile() != null) {
                        ssl.keyManager(cfg.tls().certFile().toFile(), cfg.tls().keyFile().toFile());
                    }
                });
            } catch (SSLException | RuntimeException e) {
                throw new IllegalArgumentException("etcd.tls: " + e.getMessage(), e);
            }
        }
        Client client = b.build();
        EtcdBackend backend = new EtcdBackend(client, context.vertx(), cfg, context.registrationTtl());
        backend.start();
        return backend;
    }
}
