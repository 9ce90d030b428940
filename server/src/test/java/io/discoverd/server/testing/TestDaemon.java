package io.discoverd.server.testing;

import io.discoverd.backend.memory.InMemoryBackend;
import io.discoverd.server.Backends;
import io.discoverd.server.Daemon;
import io.discoverd.server.config.ConfigLoader;
import io.discoverd.server.config.DaemonConfig;
import io.discoverd.server.config.NetTransport;
import io.vertx.core.transport.Transport;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/** Starts a real {@link Daemon} in-process on 127.0.0.1:0 over the in-memory backend. */
public final class TestDaemon implements AutoCloseable {

    public final Daemon daemon;

    private TestDaemon(Daemon daemon) {
        this.daemon = daemon;
    }

    /** A daemon with EXTERNAL_IP 127.0.0.1 and the given extra YAML lines. */
    public static TestDaemon start(Path dataDir, String... extraYaml) throws Exception {
        return startWithExternalIp(dataDir, "127.0.0.1", extraYaml);
    }

    /** A daemon with the given externalIp ({@code ""} for none) and extra YAML lines. */
    public static TestDaemon startWithExternalIp(Path dataDir, String externalIp, String... extraYaml) throws Exception {
        StringBuilder yaml = new StringBuilder()
                .append("bind: \"127.0.0.1:0\"\n")
                .append("backend: memory\n")
                .append("externalIp: \"").append(externalIp).append("\"\n")
                .append("dataDir: \"").append(dataDir.toString().replace("\\", "/")).append("\"\n");
        for (String line : extraYaml) {
            yaml.append(line).append('\n');
        }
        DaemonConfig config = ConfigLoader.parse(yaml.toString(), "test", null, Map.of(), Backends.installedNames());
        return new TestDaemon(Daemon.start(config));
    }

    /**
     * The Vert.x transport a {@code transport} setting takes on this host; aborts the calling test
     * (skipped, with Netty's reason) when it names one this host cannot load.
     */
    public static Transport assumeTransportLoads(String setting) {
        try {
            return NetTransport.parse("transport", setting).select();
        } catch (IllegalStateException notHere) {
            Assumptions.abort(notHere.getMessage());
            throw notHere; // not reached: abort throws
        }
    }

    public int port() {
        return daemon.port();
    }

    public InMemoryBackend backend() {
        return (InMemoryBackend) daemon.backend();
    }

    @Override
    public void close() {
        daemon.close();
    }
}
