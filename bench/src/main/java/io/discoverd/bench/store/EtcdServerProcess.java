package io.discoverd.bench.store;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A single-member etcd (the {@code etcd} on the PATH, installed by {@code bin/test} / {@code bin/bench})
 * as its own process on loopback. The revision is read through the v3 JSON gateway and the watcher
 * count from its Prometheus metrics, so the bench needs no client of its own for them.
 */
public final class EtcdServerProcess implements StoreServer {

    private static final Pattern REVISION = Pattern.compile("\"revision\"\\s*:\\s*\"?(\\d+)");
    private static final Pattern WATCHERS = Pattern.compile("(?m)^etcd_debugging_mvcc_watcher_total (\\S+)$");

    private final Path dir;
    private final int clientPort;
    private final Process process;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private EtcdServerProcess(Path dir, int clientPort, Process process) {
        this.dir = dir;
        this.clientPort = clientPort;
        this.process = process;
    }

    /** Starts etcd with its data in {@code dir} and waits (at most 60 s) until {@code /health} is true. */
    public static EtcdServerProcess start(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        int client = Processes.freePort();
        int peer = Processes.freePort();
        String clientUrl = "http://127.0.0.1:" + client;
        String peerUrl = "http://127.0.0.1:" + peer;
        ProcessBuilder pb = new ProcessBuilder("etcd", "--name", "bench", "--data-dir", dir.resolve("data").toString(),
                "--listen-client-urls", clientUrl, "--advertise-client-urls", clientUrl,
                "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl,
                "--initial-cluster", "bench=" + peerUrl, "--quota-backend-bytes", String.valueOf(8L << 30),
                "--max-request-bytes", String.valueOf(8 << 20))
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("etcd.log").toFile());
        EtcdServerProcess etcd = new EtcdServerProcess(dir, client, pb.start());
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            try {
                if (etcd.get("/health").contains("\"true\"")) {
                    return etcd;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (!etcd.process.isAlive() || System.nanoTime() > deadline) {
                etcd.close();
                throw new IOException("etcd did not start; see " + dir.resolve("etcd.log"));
            }
            Thread.sleep(100);
        }
    }

    @Override
    public String backend() {
        return "etcd";
    }

    @Override
    public String daemonSection() {
        return "etcd:\n  endpoints: [" + address() + "]\n  prefix: /discoverd\n";
    }

    @Override
    public String address() {
        return "http://127.0.0.1:" + clientPort;
    }

    @Override
    public long writeCounter() throws IOException {
        // A range over an absent key answers only the header, with the store's revision.
        String body = post("/v3/kv/range", "{\"key\":\"AA==\"}");
        Matcher m = REVISION.matcher(body);
        if (!m.find()) {
            throw new IOException("no revision in " + body);
        }
        return Long.parseLong(m.group(1));
    }

    @Override
    public long watchesOn(String servicePath) throws IOException {
        Matcher m = WATCHERS.matcher(get("/metrics"));
        if (!m.find()) {
            throw new IOException("no etcd_debugging_mvcc_watcher_total in /metrics");
        }
        return (long) Double.parseDouble(m.group(1));
    }

    private String get(String path) throws IOException {
        return send(HttpRequest.newBuilder(URI.create(address() + path)).GET());
    }

    private String post(String path, String json) throws IOException {
        return send(HttpRequest.newBuilder(URI.create(address() + path))
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)));
    }

    private String send(HttpRequest.Builder request) throws IOException {
        try {
            return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    @Override
    public void close() {
        Processes.stop(process);
        Processes.deleteTree(dir.resolve("data"));
    }
}
