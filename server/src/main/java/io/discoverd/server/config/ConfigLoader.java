package io.discoverd.server.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.discoverd.backend.Durations;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads {@code conf/discoverd.yaml} into a {@link DaemonConfig}, applying the {@code --bind} flag
 * and the {@code EXTERNAL_IP} environment variable. Every problem is reported as a
 * {@link ConfigException} whose message starts with the file and names the field.
 *
 * <p>Stateless and thread-safe.
 */
public final class ConfigLoader {

    /** The default config file, relative to the working directory. */
    public static final Path DEFAULT_PATH = Path.of("conf", "discoverd.yaml");
    /** The environment variable that overrides {@code externalIp} (PROTOCOL.md §5.2). */
    public static final String EXTERNAL_IP_ENV = "EXTERNAL_IP";

    private static final List<String> FIELDS = List.of("bind", "externalIp", "backend", "registrationTtl",
            "dataDir", "maxMessageBytes", "maxAttrsBytes", "subscriberQueueBytes", "transport", "eventLoops");

    private static final ObjectMapper YAML = YAMLMapper.builder(new YAMLFactory())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private ConfigLoader() {
    }

    /**
     * Loads a config file.
     *
     * @param file         the file to read
     * @param mustExist    {@code false} for the default path: a missing file then means all defaults;
     *                     {@code true} for a path the operator named with {@code --config}
     * @param bindOverride the {@code --bind} value, or {@code null}
     * @param env          the process environment (only {@value #EXTERNAL_IP_ENV} is read)
     * @param backendNames the names of the installed backend providers: the allowed values of
     *                     {@code backend} and the allowed backend sections
     * @throws ConfigException when the file cannot be read or is invalid; the message names the field
     */
    public static DaemonConfig load(Path file, boolean mustExist, String bindOverride, Map<String, String> env,
                                    Set<String> backendNames) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            if (mustExist) {
                throw new ConfigException(file + ": no such file");
            }
            text = "";
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(text, file.toString(), bindOverride, env, backendNames);
    }

    /**
     * Parses config text; see {@link #load}.
     *
     * @param yaml   the YAML text; empty means all defaults
     * @param source where the text came from, for messages (e.g. the file name)
     */
    public static DaemonConfig parse(String yaml, String source, String bindOverride, Map<String, String> env,
                                     Set<String> backendNames) throws ConfigException {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            throw new ConfigException(source + ": not valid YAML: " + e.getOriginalMessage() + where, e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            root = JSON.createObjectNode();
        }
        if (!root.isObject()) {
            throw new ConfigException(source + ": the top level must be a mapping of fields");
        }
        try {
            return build((ObjectNode) root, bindOverride, env, backendNames);
        } catch (IllegalArgumentException e) {
            // A flag's error names the flag, not the file, which may be fine.
            String where = e.getMessage() != null && e.getMessage().startsWith("--") ? "" : source + ": ";
            throw new ConfigException(where + e.getMessage(), e);
        }
    }

    private static DaemonConfig build(ObjectNode root, String bindOverride, Map<String, String> env,
                                      Set<String> backendNames) {
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field) && !backendNames.contains(field)) {
                throw new IllegalArgumentException(field + ": unknown field (known: " + String.join(", ", FIELDS)
                        + ", and a section per installed backend: " + String.join(", ", new TreeSet<>(backendNames)) + ")");
            }
        }

        BindAddress bind = bindOverride != null
                ? BindAddress.parse("--bind", bindOverride)
                : root.hasNonNull("bind") ? BindAddress.parse("bind", string(root, "bind")) : BindAddress.DEFAULT;

        String externalIp = root.hasNonNull("externalIp") ? string(root, "externalIp").trim() : "";
        String fromEnv = env.get(EXTERNAL_IP_ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            externalIp = fromEnv.trim();
        }

        String backend = root.hasNonNull("backend") ? string(root, "backend").trim() : DaemonConfig.DEFAULT_BACKEND;

        Duration ttl = root.hasNonNull("registrationTtl")
                ? Durations.parse("registrationTtl", scalar(root, "registrationTtl"))
                : DaemonConfig.DEFAULT_TTL;

        Path dataDir;
        if (root.hasNonNull("dataDir")) {
            String d = string(root, "dataDir").trim();
            if (d.isEmpty()) {
                throw new IllegalArgumentException("dataDir: must not be empty");
            }
            dataDir = Path.of(d);
        } else {
            dataDir = DaemonConfig.defaultDataDir(bind);
        }

        int maxMessageBytes = positiveInt(root, "maxMessageBytes", DaemonConfig.DEFAULT_MAX_MESSAGE_BYTES);
        int maxAttrsBytes = positiveInt(root, "maxAttrsBytes", DaemonConfig.DEFAULT_MAX_ATTRS_BYTES);
        int queueBytes = positiveInt(root, "subscriberQueueBytes", DaemonConfig.DEFAULT_SUBSCRIBER_QUEUE_BYTES);
        NetTransport transport = root.hasNonNull("transport")
                ? NetTransport.parse("transport", string(root, "transport"))
                : NetTransport.DEFAULT;
        int eventLoops = boundedInt(root, "eventLoops", DaemonConfig.defaultEventLoops(), DaemonConfig.MAX_EVENT_LOOPS,
                "a whole number from 1 to " + DaemonConfig.MAX_EVENT_LOOPS);

        // Checked after the general fields, so a bad field is reported as itself even where the
        // configured backend is not installed.
        if (!backendNames.contains(backend)) {
            throw new IllegalArgumentException("backend: no backend named '" + backend + "' is installed (installed: "
                    + String.join(", ", new TreeSet<>(backendNames)) + ")");
        }

        JsonObject section = new JsonObject();
        JsonNode node = root.get(backend);
        if (node != null && !node.isNull()) {
            if (!node.isObject()) {
                throw new IllegalArgumentException(backend + ": must be a mapping of the backend's settings");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> map = JSON.convertValue(node, Map.class);
            section = new JsonObject(map);
        }
        return new DaemonConfig(bind, externalIp, backend, ttl, dataDir, maxMessageBytes, maxAttrsBytes, queueBytes,
                transport, eventLoops, section);
    }

    private static String string(ObjectNode root, String field) {
        JsonNode n = root.get(field);
        if (!n.isTextual() && !n.isNumber()) {
            throw new IllegalArgumentException(field + ": must be a string, got " + n.getNodeType().name().toLowerCase());
        }
        return n.asText();
    }

    private static Object scalar(ObjectNode root, String field) {
        JsonNode n = root.get(field);
        if (n.isIntegralNumber()) {
            return n.longValue();
        }
        if (n.isTextual()) {
            return n.asText();
        }
        throw new IllegalArgumentException(field + ": must be a duration such as 10s, got " + n);
    }

    private static int positiveInt(ObjectNode root, String field, int dflt) {
        return boundedInt(root, field, dflt, Integer.MAX_VALUE, "a positive whole number of bytes (at most "
                + Integer.MAX_VALUE + ")");
    }

    /** A whole number from 1 to {@code max}, or {@code dflt} when the field is absent. */
    private static int boundedInt(ObjectNode root, String field, int dflt, int max, String what) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() <= 0 || n.intValue() > max) {
            throw new IllegalArgumentException(field + ": must be " + what + ", got " + n);
        }
        return n.intValue();
    }
}
