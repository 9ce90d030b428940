package io.discoverd.backend.etcd;

import io.discoverd.backend.ConfigValues;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The {@code etcd} section of {@code conf/discoverd.yaml}, parsed and checked.
 *
 * @param endpoints      client URLs ({@code http://host:port} or {@code https://host:port}), at least one
 * @param prefix         key prefix of the store layout, e.g. {@code /discoverd} (no trailing {@code /})
 * @param connectTimeout how long jetcd may take to open a connection to a member
 * @param requestTimeout how long one store call may take before it fails with "store unavailable"
 * @param user           etcd user, or {@code null} for none (then {@code password} is {@code null} too)
 * @param password       the user's password, or {@code null}
 * @param tls            TLS files, or {@code null} (https endpoints then trust the JDK's default CAs)
 */
record EtcdConfig(List<String> endpoints, String prefix, Duration connectTimeout, Duration requestTimeout,
                  String user, String password, Tls tls) {

    /** PEM files for TLS; {@code certFile} and {@code keyFile} (client authentication) come together. */
    record Tls(Path caFile, Path certFile, Path keyFile) {
    }

    EtcdConfig {
        endpoints = List.copyOf(endpoints);
        Objects.requireNonNull(prefix);
        Objects.requireNonNull(connectTimeout);
        Objects.requireNonNull(requestTimeout);
    }

    /** Whether any endpoint is {@code https}, or TLS files are given. */
    boolean usesTls() {
        return tls != null || endpoints.stream().anyMatch(e -> e.startsWith("https://"));
    }

    @Override
    public String toString() {
        return "EtcdConfig[" + endpoints + ", prefix " + prefix + ", user " + user + (password == null ? "" : ", ****") + "]";
    }

    /**
     * Parses the section.
     *
     * @param c the section, {@code null} or empty for all defaults ({@code http://127.0.0.1:2379},
     *          {@code /discoverd}, 5 s, 5 s)
     * @throws IllegalArgumentException naming the field ({@code etcd.<field>: ...}) when a value is invalid
     */
    static EtcdConfig parse(JsonObject c) {
        JsonObject cfg = c == null ? new JsonObject() : c;
        List<String> endpoints = endpoints(cfg.getValue("endpoints"));
        String prefix = ConfigValues.string(cfg, "prefix", "/discoverd", "etcd.prefix").trim();
        if (!prefix.startsWith("/") || prefix.length() < 2 || prefix.endsWith("/") || prefix.contains("//")) {
            throw new IllegalArgumentException("etcd.prefix: must start with '/', not end with '/', e.g. /discoverd; got '" + prefix + "'");
        }
        Duration connect = ConfigValues.duration(cfg, "connectTimeout", Duration.ofSeconds(5), "etcd.connectTimeout");
        Duration request = ConfigValues.duration(cfg, "requestTimeout", Duration.ofSeconds(5), "etcd.requestTimeout");
        String user = ConfigValues.string(cfg, "user", null, "etcd.user");
        String password = ConfigValues.string(cfg, "password", null, "etcd.password");
        if ((user == null) != (password == null) || (user != null && (user.isEmpty() || password.isEmpty()))) {
            throw new IllegalArgumentException("etcd.user, etcd.password: give both, non-empty, or neither");
        }
        Tls tls = null;
        Object t = cfg.getValue("tls");
        if (t != null) {
            if (!(t instanceof JsonObject to)) {
                throw new IllegalArgumentException("etcd.tls: must be a map {caFile: ..., certFile: ..., keyFile: ...}");
            }
            Path ca = file(to, "caFile");
            Path cert = file(to, "certFile");
            Path key = file(to, "keyFile");
            if ((cert == null) != (key == null)) {
                throw new IllegalArgumentException("etcd.tls.certFile, etcd.tls.keyFile: give both or neither");
            }
            tls = new Tls(ca, cert, key);
            if (endpoints.stream().anyMatch(e -> e.startsWith("http://"))) {
                throw new IllegalArgumentException("etcd.tls: given, but etcd.endpoints use http://; write https:// URLs");
            }
        }
        return new EtcdConfig(endpoints, prefix, connect, request, user, password, tls);
    }

    private static List<String> endpoints(Object v) {
        List<Object> raw = new ArrayList<>();
        if (v == null) {
            raw.add("http://127.0.0.1:2379");
        } else if (v instanceof JsonArray a) {
            a.forEach(raw::add);
        } else if (v instanceof String s) {
            for (String part : s.split(",")) {
                raw.add(part);
            }
        } else {
            throw new IllegalArgumentException("etcd.endpoints: must be a list of URLs, e.g. [http://127.0.0.1:2379]");
        }
        List<String> out = new ArrayList<>();
        for (Object o : raw) {
            if (!(o instanceof String s) || s.isBlank()) {
                throw new IllegalArgumentException("etcd.endpoints: not a URL: " + o);
            }
            String e = s.trim();
            URI u;
            try {
                u = URI.create(e);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("etcd.endpoints: not a URL: '" + e + "'", ex);
            }
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null || u.getPort() < 1
                    || !(u.getPath() == null || u.getPath().isEmpty() || u.getPath().equals("/"))) {
                throw new IllegalArgumentException("etcd.endpoints: '" + e + "' is not http(s)://host:port");
            }
            out.add(scheme + "://" + u.getHost() + ":" + u.getPort());
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("etcd.endpoints: give at least one URL, e.g. [http://127.0.0.1:2379]");
        }
        return out;
    }

    private static Path file(JsonObject cfg, String key) {
        String s = ConfigValues.string(cfg, key, null, "etcd.tls." + key);
        if (s == null) {
            return null;
        }
        Path p = Path.of(s);
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException("etcd.tls." + key + ": cannot read " + p);
        }
        return p;
    }
}
