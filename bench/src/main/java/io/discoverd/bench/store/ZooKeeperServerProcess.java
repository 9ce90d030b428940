package io.discoverd.bench.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A standalone ZooKeeper server ({@code ZooKeeperServerMain}, the version the daemon uses) in its
 * own JVM, with the four-letter words the bench reads ({@code srvr} for the zxid, {@code wchp} for
 * watches).
 */
public final class ZooKeeperServerProcess implements StoreServer {

    /**
     * The session timeout of both ZooKeeper clients, the daemon's and the raw one, in s: the same, so
     * that both send their first ping after the same time without a request (a ping comes after about
     * a third of it; see {@link #warmUpPauseMillis}).
     */
    public static final int SESSION_TIMEOUT_SECONDS = 30;

    private static final Pattern ZXID = Pattern.compile("Zxid: 0x([0-9a-fA-F]+)");

    private final Path dir;
    private final int port;
    private final Process process;

    private ZooKeeperServerProcess(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    /**
     * Starts a server with its data in {@code dir} and waits (at most 60 s) until it answers.
     *
     * @param heap the server JVM's -Xmx, e.g. {@code 2g}
     */
    public static ZooKeeperServerProcess start(Path dir, String heap) throws IOException, InterruptedException {
        Files.createDirectories(dir.resolve("data"));
        int port = Processes.freePort();
        Path cfg = dir.resolve("zoo.cfg");
        Files.writeString(cfg, String.join("\n",
                "tickTime=2000",
                "dataDir=" + dir.resolve("data"),
                "clientPort=" + port,
                "clientPortAddress=127.0.0.1",
                "maxClientCnxns=0",
                "admin.enableServer=false",
                "4lw.commands.whitelist=srvr,wchp,ruok",
                "maxSessionTimeout=600000",
                ""));
        ProcessBuilder pb = new ProcessBuilder(Processes.java(), "-Xms" + heap, "-Xmx" + heap, "-XX:+AlwaysPreTouch", "-XX:+UseG1GC",
                "-Dzookeeper.admin.enableServer=false",
                "-cp", Processes.ownClassPath(), "org.apache.zookeeper.server.ZooKeeperServerMain", cfg.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("zookeeper.log").toFile());
        ZooKeeperServerProcess zk = new ZooKeeperServerProcess(dir, port, pb.start());
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            try {
                if (zk.fourLetter("ruok").startsWith("imok")) {
                    return zk;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (!zk.process.isAlive() || System.nanoTime() > deadline) {
                zk.close();
                throw new IOException("ZooKeeper did not start; see " + dir.resolve("zookeeper.log"));
            }
            Thread.sleep(100);
        }
    }

    @Override
    public String backend() {
        return "zookeeper";
    }

    @Override
    public String daemonSection() {
        return "zookeeper:\n  connect: " + address() + "\n  root: /discoverd\n  sessionTimeout: " + SESSION_TIMEOUT_SECONDS
                + "s\n";
    }

    /**
     * Two fifths of the session timeout (12 s of 30 s): longer than the ZooKeeper clients' ping
     * interval (a third of it, less a second), so that the compiled I/O code of both clients (the
     * daemon's, the raw one) meets a ping answer during the warm-up. Without it, the daemon's client
     * sent its first ping in the rest before register's timed runs, its code was thrown away
     * ("unstable_if" in {@code ClientCnxn.SendThread.readResponse}, in the daemon's JFR
     * deoptimization events) and compiled again while timed (docs/benchmarks.md, tenth pass).
     */
    @Override
    public long warmUpPauseMillis() {
        return SESSION_TIMEOUT_SECONDS * 1000L * 2 / 5;
    }

    @Override
    public String address() {
        return "127.0.0.1:" + port;
    }

    @Override
    public long writeCounter() throws IOException {
        Matcher m = ZXID.matcher(fourLetter("srvr"));
        if (!m.find()) {
            throw new IOException("no Zxid in srvr output");
        }
        return Long.parseLong(m.group(1), 16);
    }

    @Override
    public long watchesOn(String servicePath) throws IOException {
        // wchp: each watched path on its own line, followed by one tab-indented line per watching session.
        long sessions = 0;
        boolean in = false;
        for (String line : fourLetter("wchp").split("\n")) {
            if (!line.startsWith("\t") && !line.startsWith(" ")) {
                in = line.trim().equals(servicePath);
            } else if (in && !line.isBlank()) {
                sessions++;
            }
        }
        return sessions;
    }

    private String fourLetter(String word) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(30_000);
            OutputStream o = s.getOutputStream();
            o.write(word.getBytes(StandardCharsets.US_ASCII));
            o.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        Processes.stop(process);
        Processes.deleteTree(dir.resolve("data"));
    }
}
