package io.discoverd.backend.zookeeper;

import io.discoverd.backend.ConfigValues;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Objects;
import org.apache.zookeeper.common.PathUtils;

/**
 * The {@code zookeeper} section of {@code conf/discoverd.yaml}, parsed and checked.
 *
 * @param connect           {@code "embedded"} or an ensemble connect string, optionally with a chroot
 *                          suffix ({@code zk1:2181,zk2:2181/discoverd-prod})
 * @param embeddedPort      client port of the embedded server (binds 127.0.0.1); used only when embedded
 * @param root              root path of the store layout, e.g. {@code /discoverd}
 * @param sessionTimeout    ZooKeeper session timeout, separate from the registration TTL
 * @param connectionTimeout Curator's connection timeout (how long one store call may wait for a connection)
 * @param auth              digest credentials, or {@code null} for none
 */
record ZooKeeperConfig(String connect, int embeddedPort, String root, Duration sessionTimeout,
                       Duration connectionTimeout, Auth auth) {

    static final String EMBEDDED = "embedded";

    /** Digest credentials added to the session with Curator's {@code authorization}. */
    record Auth(String scheme, String user, String password) {
        @Override
        public String toString() {
            return "Auth[" + scheme + ", " + user + ", ****]";
        }
    }

    ZooKeeperConfig {
        Objects.requireNonNull(connect);
        Objects.requireNonNull(root);
        Objects.requireNonNull(sessionTimeout);
        Objects.requireNonNull(connectionTimeout);
    }

    boolean embedded() {
        return EMBEDDED.equals(connect);
    }

    /** The connect string without its chroot suffix. */
    String hosts() {
        int slash = connect.indexOf('/');
        return slash < 0 ? connect : connect.substring(0, slash);
    }

    /** The chroot suffix as a Curator namespace (no leading slash), or {@code null}. */
    String namespace() {
        int slash = connect.indexOf('/');
        if (slash < 0) {
            return null;
        }
        String ns = connect.substring(slash + 1);
        while (ns.endsWith("/")) {
            ns = ns.substring(0, ns.length() - 1);
        }
        return ns.isEmpty() ? null : ns;
    }

    /**
     * Parses the section.
     *
     * @param c the section, {@code null} or empty for all defaults
     * @throws IllegalArgumentException naming the field ({@code zookeeper.<field>: ...}) when a value is invalid
     */
    static ZooKeeperConfig parse(JsonObject c) {
        JsonObject cfg = c == null ? new JsonObject() : c;
        String connect = string(cfg, "connect", EMBEDDED).trim();
        if (connect.isEmpty()) {
            throw new IllegalArgumentException("zookeeper.connect: must not be empty (use 'embedded' or host:port[,host:port...][/chroot])");
        }
        if (!EMBEDDED.equals(connect)) {
            int slash = connect.indexOf('/');
            if (slash == 0) {
                throw new IllegalArgumentException("zookeeper.connect: no host before the chroot: '" + connect + "'");
            }
            if (slash > 0) {
                try {
                    PathUtils.validatePath(connect.substring(slash).replaceAll("/+$", "").isEmpty()
                            ? "/" : connect.substring(slash).replaceAll("/+$", ""));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("zookeeper.connect: invalid chroot: " + e.getMessage(), e);
                }
            }
        }
        Object portValue = cfg.getValue("embedded.port");
        Object embedded = cfg.getValue("embedded");
        if (embedded instanceof JsonObject e && e.containsKey("port")) {
            portValue = e.getValue("port");
        } else if (embedded instanceof java.util.Map<?, ?> m && m.containsKey("port")) {
            portValue = m.get("port");
        } else if (embedded != null && !(embedded instanceof JsonObject) && !(embedded instanceof java.util.Map<?, ?>)) {
            throw new IllegalArgumentException("zookeeper.embedded: must be a map, e.g. {port: 2181}");
        }
        int port = 2181;
        if (portValue != null) {
            try {
                port = portValue instanceof Number n ? n.intValue() : Integer.parseInt(portValue.toString().trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("zookeeper.embedded.port: not a port number: " + portValue);
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("zookeeper.embedded.port: must be 1-65535, got " + portValue);
            }
        }
        String root = string(cfg, "root", "/discoverd").trim();
        try {
            PathUtils.validatePath(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("zookeeper.root: " + e.getMessage(), e);
        }
        if (root.equals("/")) {
            throw new IllegalArgumentException("zookeeper.root: must not be '/' (use e.g. /discoverd)");
        }
        Duration session = ConfigValues.duration(cfg, "sessionTimeout", Duration.ofSeconds(15), "zookeeper.sessionTimeout");
        Duration connection = ConfigValues.duration(cfg, "connectionTimeout", Duration.ofSeconds(5), "zookeeper.connectionTimeout");
        Auth auth = null;
        Object a = cfg.getValue("auth");
        if (a != null) {
            if (!(a instanceof JsonObject ao)) {
                throw new IllegalArgumentException("zookeeper.auth: must be a map {scheme: digest, user: ..., password: ...}");
            }
            String scheme = ConfigValues.string(ao, "scheme", "digest", "zookeeper.auth.scheme");
            if (!scheme.equals("digest")) {
                throw new IllegalArgumentException("zookeeper.auth.scheme: only 'digest' is supported, got '" + scheme + "'");
            }
            String user = ConfigValues.string(ao, "user", "", "zookeeper.auth.user");
            String password = ConfigValues.string(ao, "password", "", "zookeeper.auth.password");
            if (user.isEmpty() || user.contains(":")) {
                throw new IllegalArgumentException("zookeeper.auth.user: must be non-empty and without ':'");
            }
            if (password.isEmpty()) {
                throw new IllegalArgumentException("zookeeper.auth.password: must be non-empty");
            }
            auth = new Auth(scheme, user, password);
        }
        return new ZooKeeperConfig(connect, port, root, session, connection, auth);
    }

    private static String string(JsonObject cfg, String key, String dflt) {
        return ConfigValues.string(cfg, key, dflt, "zookeeper." + key);
    }
}
