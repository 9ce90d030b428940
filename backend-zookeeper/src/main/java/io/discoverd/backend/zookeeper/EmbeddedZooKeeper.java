package io.discoverd.backend.zookeeper;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeoutException;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A standalone ZooKeeper server inside the daemon, for single-host use ({@code zookeeper.connect:
 * embedded}). Binds 127.0.0.1 only; keeps its znodes and sessions in {@code <dataDir>/zookeeper}, so
 * they survive a daemon restart (notes/zookeeper.md, "Embedded server").
 *
 * <p>Not thread-safe: started and closed by the backend's life cycle.
 */
final class EmbeddedZooKeeper implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);
    private static final long START_TIMEOUT_MS = 30_000;

    private final ZooKeeperServerEmbedded server;
    private final int port;

    private EmbeddedZooKeeper(ZooKeeperServerEmbedded server, int port) {
        this.server = server;
        this.port = port;
    }

    /**
     * Starts the server and waits until it serves (blocks the start-up thread, typically below 1 s).
     *
     * @param baseDir        where it keeps its files; created if missing
     * @param port           client port on 127.0.0.1
     * @param sessionTimeout the session timeout clients will ask for; the server's bounds are set to allow it
     * @throws IllegalStateException when the port is taken or the server does not start; the message names the port
     */
    static EmbeddedZooKeeper start(Path baseDir, int port, Duration sessionTimeout) {
        try {
            Files.createDirectories(baseDir);
            purgeGeneratedConfigs(baseDir);
        } catch (IOException e) {
            throw new IllegalStateException("zookeeper.embedded: cannot prepare " + baseDir + ": " + e, e);
        }
        // Checked first: ZooKeeper reports a taken port only as a start-up timeout.
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new IllegalStateException("zookeeper.embedded.port: 127.0.0.1:" + port + " is not available: " + e.getMessage(), e);
        }
        // Without it ZooKeeper tries to load Jetty (absent) and logs a stack trace; it is JVM-wide.
        System.setProperty("zookeeper.admin.enableServer", "false");
        long tick = 500;
        long maxSession = Math.max(sessionTimeout.toMillis() * 2, 40_000);
        Properties p = new Properties();
        p.setProperty("tickTime", Long.toString(tick));
        p.setProperty("clientPort", Integer.toString(port));
        p.setProperty("clientPortAddress", "127.0.0.1");
        p.setProperty("dataDir", baseDir.resolve("data").toAbsolutePath().toString());
        p.setProperty("admin.enableServer", "false");
        p.setProperty("minSessionTimeout", Long.toString(2 * tick));
        p.setProperty("maxSessionTimeout", Long.toString(maxSession));
        p.setProperty("autopurge.snapRetainCount", "3");
        p.setProperty("autopurge.purgeInterval", "1");
        p.setProperty("4lw.commands.whitelist", "ruok,srvr,stat,mntr");
        ZooKeeperServerEmbedded server;
        try {
            server = ZooKeeperServerEmbedded.builder()
                    .baseDir(baseDir)
                    .configuration(p)
                    .exitHandler(ExitHandler.LOG_ONLY)
                    .build();
        } catch (Exception e) {
            throw new IllegalStateException("zookeeper.embedded: cannot configure the server in " + baseDir + ": " + e, e);
        }
        try {
            server.start(START_TIMEOUT_MS);
        } catch (TimeoutException e) {
            server.close();
            throw new IllegalStateException("zookeeper.embedded.port: the embedded server did not start on 127.0.0.1:" + port
                    + " within " + START_TIMEOUT_MS + " ms (port taken?)", e);
        } catch (Exception e) {
            server.close();
            throw new IllegalStateException("zookeeper.embedded: the server on 127.0.0.1:" + port + " failed to start: " + e, e);
        }
        LOG.info("embedded ZooKeeper serving on 127.0.0.1:{} (data in {})", port, baseDir);
        return new EmbeddedZooKeeper(server, port);
    }

    /** Each boot writes a new generated configuration file and never removes the old ones. */
    private static void purgeGeneratedConfigs(Path baseDir) throws IOException {
        try (DirectoryStream<Path> old = Files.newDirectoryStream(baseDir, "zookeeper.configuration*.properties")) {
            for (Path f : old) {
                Files.deleteIfExists(f);
            }
        }
    }

    /** The connect string of this server. */
    String connectString() {
        return "127.0.0.1:" + port;
    }

    /** Stops the server (blocks briefly). Idempotent. */
    @Override
    public void close() {
        server.close();
    }
}
