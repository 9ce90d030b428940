package io.discoverd.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.protocol.http.Handshake;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The answer to {@code GET /health} (PROTOCOL.md §5.11): {@code 200} with
 * {@code {"status":"ok","backend":<name>,"store":<description>}} while the backend is connected to
 * its store, {@code 503} with {@code "status":"unavailable"} otherwise.
 *
 * <p>Stateless and thread-safe.
 */
public final class Health {

    /** The path served. */
    public static final String PATH = "/health";

    private static final ObjectMapper JSON = new ObjectMapper();

    private Health() {
    }

    /**
     * The complete HTTP/1.0 response for the backend's current state.
     *
     * @param backendName the configured backend name, e.g. {@code zookeeper}
     * @param backend     the running backend
     */
    public static byte[] response(String backendName, DiscoveryBackend backend) {
        boolean ok = backend.isConnected();
        Map<String, String> body = new LinkedHashMap<>();
        body.put("status", ok ? "ok" : "unavailable");
        body.put("backend", backendName);
        body.put("store", backend.describe());
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a map of strings always serialises
        }
        byte[] withNewline = new byte[json.length + 1];
        System.arraycopy(json, 0, withNewline, 0, json.length);
        withNewline[json.length] = '\n';
        return ok ? Handshake.response(200, "OK", "application/json", withNewline)
                : Handshake.response(503, "Service Unavailable", "application/json", withNewline);
    }
}
