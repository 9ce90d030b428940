package io.discoverd.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.discoverd.backend.etcd.testing.EtcdProcess;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A real single-member etcd (the {@code etcd} binary, through backend-etcd's
 * {@link EtcdProcess}) on loopback ports of its own, shared by the daemons of a test, and the
 * config that points a daemon at it. Each store is its own etcd, so the daemons use the default
 * {@code etcd.prefix}.
 *
 * <p>The daemon config leaves {@code connectTimeout} and {@code requestTimeout} at their defaults:
 * the tests see what an operator's daemon does.
 */
public final class EtcdStore implements TestStore {

    /** The daemons' {@code etcd.prefix} (the default, written out so that {@link #keys} can read under it). */
    public static final String PREFIX = "/discoverd";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final EtcdProcess etcd;

    private EtcdStore(EtcdProcess etcd) {
        this.etcd = etcd;
    }

    /** Starts a single-member etcd in a new temporary directory; returns once it serves. */
    public static EtcdStore start() {
        return new EtcdStore(EtcdProcess.startSingle());
    }

    @Override
    public Backend backend() {
        return Backend.ETCD;
    }

    /** The client URL, {@code http://127.0.0.1:<port>}. */
    public String endpoint() {
        return etcd.endpoint();
    }

    @Override
    public String address() {
        return endpoint();
    }

    @Override
    public String backendSection() {
        return "etcd:\n"
                + "  endpoints: [" + endpoint() + "]\n"
                + "  prefix: " + PREFIX + "\n";
    }

    /** Stops etcd with SIGTERM, keeping its ports and data for {@link #restart()} (a store outage). */
    @Override
    public void stop() {
        etcd.stop();
    }

    /** Starts etcd again with the same ports and data and waits until it serves (has a leader). */
    @Override
    public void restart() {
        etcd.start();
        etcd.awaitReady();
    }

    /**
     * The keys under {@code <PREFIX>/services/<name>/}, read straight from etcd through its v3 JSON
     * gateway (what the daemons left in the store, independent of any daemon).
     */
    public List<String> keys(String name) throws IOException {
        String from = PREFIX + "/services/" + name + "/";
        byte[] end = from.getBytes(StandardCharsets.UTF_8);
        end[end.length - 1]++;
        String body = "{\"key\":\"" + b64(from.getBytes(StandardCharsets.UTF_8)) + "\",\"range_end\":\"" + b64(end)
                + "\",\"keys_only\":true}";
        HttpURLConnection c = (HttpURLConnection) URI.create(endpoint() + "/v3/kv/range").toURL().openConnection();
        try {
            c.setConnectTimeout(5000);
            c.setReadTimeout(5000);
            c.setDoOutput(true);
            c.setRequestMethod("POST");
            c.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
            JsonNode answer;
            try (var in = c.getInputStream()) {
                answer = MAPPER.readTree(in);
            }
            List<String> out = new ArrayList<>();
            for (JsonNode kv : answer.path("kvs")) {
                out.add(new String(Base64.getDecoder().decode(kv.path("key").asText()), StandardCharsets.UTF_8));
            }
            return out;
        } finally {
            c.disconnect();
        }
    }

    private static String b64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    /** Stops etcd for good and deletes its data. */
    @Override
    public void close() {
        etcd.close();
    }
}
