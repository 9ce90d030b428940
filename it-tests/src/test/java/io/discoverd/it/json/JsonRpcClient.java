package io.discoverd.it.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.discoverd.it.http.RawConnection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A JSON-RPC connection to a daemon over a plain socket (PROTOCOL.md §4): writes request lines,
 * and a background thread parses every response line with Jackson into an arrival-ordered inbox
 * that tests take from by predicate, with deadlines.
 *
 * <p>Thread-safe: sending is synchronised, the inbox is guarded by its monitor.
 */
public final class JsonRpcClient implements AutoCloseable {

    /** Shared, thread-safe Jackson mapper. */
    public static final ObjectMapper MAPPER = new ObjectMapper();
    private static final AtomicLong IDS = new AtomicLong();

    /**
     * One response line.
     *
     * @param raw  the exact line without its LF
     * @param node the parsed object
     * @param at   arrival time, {@link System#nanoTime()}
     */
    public record Msg(String raw, JsonNode node, long at) {

        /** The {@code id} member (JSON null node when null). */
        public JsonNode id() {
            return node.path("id");
        }

        /** The {@code result} member. */
        public JsonNode result() {
            return node.path("result");
        }

        /** The {@code error} text, or null when the member is JSON null. */
        public String error() {
            JsonNode e = node.path("error");
            return e.isNull() || e.isMissingNode() ? null : e.asText();
        }

        /** Whether this is a stream's sentinel item (PROTOCOL.md §5.5.1). */
        public boolean isSentinel() {
            return error() == null && result().isObject() && result().path("Name").asText().isEmpty()
                    && result().path("Addr").asText().isEmpty();
        }

        /** Whether the response carries the given id. */
        public boolean hasId(JsonNode expected) {
            return id().equals(expected);
        }
    }

    private final RawConnection conn;
    private final List<Msg> inbox = new ArrayList<>();
    private boolean closed;
    private long closedAt;
    private Throwable readFailure;

    private JsonRpcClient(RawConnection conn) {
        this.conn = conn;
        Thread t = new Thread(this::pump, "json-client-reader");
        t.setDaemon(true);
        t.start();
    }

    /** Connects to {@code 127.0.0.1:port} and upgrades with the JSON Accept value. */
    public static JsonRpcClient connect(int port) throws IOException {
        return over(RawConnection.upgraded(port, RawConnection.JSON));
    }

    /** Takes over a connection that has already been upgraded to JSON. */
    public static JsonRpcClient over(RawConnection upgraded) throws IOException {
        upgraded.setReadTimeout(Duration.ZERO);
        return new JsonRpcClient(upgraded);
    }

    private void pump() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(conn.input(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = MAPPER.readTree(line);
                synchronized (inbox) {
                    inbox.add(new Msg(line, node, System.nanoTime()));
                    inbox.notifyAll();
                }
            }
        } catch (IOException | RuntimeException e) {
            synchronized (inbox) {
                readFailure = e;
            }
        } finally {
            synchronized (inbox) {
                closed = true;
                closedAt = System.nanoTime();
                inbox.notifyAll();
            }
        }
    }

    /** A fresh id, unique in this JVM, as a JSON string. */
    public static String freshId() {
        return "c" + IDS.incrementAndGet();
    }

    /** {@code Args} as a JSON object; {@code attrs} null omits the member (nil Attrs). */
    public static ObjectNode args(String name, String addr, Map<String, String> attrs) {
        ObjectNode a = MAPPER.createObjectNode();
        a.put("Name", name);
        if (addr != null) {
            a.put("Addr", addr);
        }
        if (attrs != null) {
            ObjectNode o = a.putObject("Attrs");
            attrs.forEach(o::put);
        }
        return a;
    }

    /** Writes the text followed by one LF, in one write. */
    public synchronized void sendLine(String json) throws IOException {
        conn.write(json + "\n");
    }

    /** The request line for {@code method} with {@code params [args]} and the id. */
    public static String request(String method, JsonNode args, Object id) {
        ObjectNode req = MAPPER.createObjectNode();
        req.put("method", method);
        if (args != null) {
            ArrayNode params = req.putArray("params");
            params.add(args);
        }
        req.set("id", MAPPER.valueToTree(id));
        try {
            return MAPPER.writeValueAsString(req);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends a request with {@code params [args]}. */
    public void send(String method, JsonNode args, Object id) throws IOException {
        sendLine(request(method, args, id));
    }

    /**
     * Takes the first message in arrival order that matches, waiting for it.
     *
     * @throws AssertionError if none arrives within the timeout or the connection closes first
     */
    public Msg take(Predicate<Msg> match, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (inbox) {
            while (true) {
                for (Iterator<Msg> it = inbox.iterator(); it.hasNext(); ) {
                    Msg m = it.next();
                    if (match.test(m)) {
                        it.remove();
                        return m;
                    }
                }
                long left = deadline - System.nanoTime();
                if (closed || left <= 0) {
                    throw new AssertionError("no " + what + " within " + timeout + (closed ? " (connection closed: "
                            + readFailure + ")" : "") + "; unmatched messages: " + rawInbox());
                }
                inbox.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    /** Takes the next message carrying the id, waiting up to 10 s. */
    public Msg takeId(Object id) throws InterruptedException {
        JsonNode expected = MAPPER.valueToTree(id);
        return take(m -> m.hasId(expected), Duration.ofSeconds(10), "message with id " + expected);
    }

    /**
     * Takes every message matching the predicate that arrives within the period; always waits the
     * whole period (use only to prove an absence or to collect a burst that has ended).
     */
    public List<Msg> takeAllWithin(Predicate<Msg> match, Duration period) throws InterruptedException {
        long deadline = System.nanoTime() + period.toNanos();
        synchronized (inbox) {
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                inbox.wait(Math.max(1, left / 1_000_000));
            }
            List<Msg> out = new ArrayList<>();
            for (Iterator<Msg> it = inbox.iterator(); it.hasNext(); ) {
                Msg m = it.next();
                if (match.test(m)) {
                    it.remove();
                    out.add(m);
                }
            }
            return out;
        }
    }

    /** The raw lines currently in the inbox (for failure messages). */
    public List<String> rawInbox() {
        synchronized (inbox) {
            return inbox.stream().map(Msg::raw).toList();
        }
    }

    /** Sends a request with a fresh id and waits for its (first) response. */
    public Msg call(String method, JsonNode args) throws IOException, InterruptedException {
        String id = freshId();
        send(method, args, id);
        return takeId(id);
    }

    /**
     * Registers and returns the reply's expanded address.
     *
     * @throws AssertionError if the reply is an error
     */
    public String register(String name, String addr, Map<String, String> attrs) throws IOException, InterruptedException {
        Msg m = call("Agent.Register", args(name, addr, attrs));
        if (m.error() != null) {
            throw new AssertionError("Register " + name + " " + addr + " failed: " + m.raw());
        }
        return m.result().asText();
    }

    /**
     * Unregisters.
     *
     * @throws AssertionError if the reply is an error
     */
    public void unregister(String name, String addr) throws IOException, InterruptedException {
        Msg m = call("Agent.Unregister", args(name, addr, null));
        if (m.error() != null) {
            throw new AssertionError("Unregister " + name + " " + addr + " failed: " + m.raw());
        }
    }

    /**
     * Subscribes with the given id and returns the snapshot items (the results before the
     * sentinel, which is consumed too); the stream stays open.
     */
    public List<JsonNode> subscribe(String name, Object id) throws IOException, InterruptedException {
        send("Agent.Subscribe", args(name, null, null), id);
        List<JsonNode> snapshot = new ArrayList<>();
        while (true) {
            Msg m = takeId(id);
            if (m.error() != null) {
                throw new AssertionError("Subscribe " + name + " failed: " + m.raw());
            }
            if (m.isSentinel()) {
                return snapshot;
            }
            snapshot.add(m.result());
        }
    }

    /** Sends CloseStream for the stream's id (no params member). */
    public void closeStream(Object id) throws IOException {
        ObjectNode req = MAPPER.createObjectNode();
        req.put("method", "CloseStream");
        req.set("id", MAPPER.valueToTree(id));
        sendLine(req.toString());
    }

    /** Whether the server closed the connection within the timeout. */
    public boolean awaitClosed(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (inbox) {
            while (!closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                inbox.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    /** Whether the reader has seen the connection end. */
    public boolean isClosed() {
        synchronized (inbox) {
            return closed;
        }
    }

    /**
     * How the connection ended, for failure messages: {@code "open"}, or the {@link System#nanoTime()}
     * of the end and the read error (null for a clean EOF).
     */
    public String closeCause() {
        synchronized (inbox) {
            return closed ? "closed at nanoTime " + closedAt + " by " + readFailure : "open";
        }
    }

    /** Closes with a reset, as a client that vanishes does. */
    public void abort() throws IOException {
        conn.abort();
    }

    @Override
    public void close() throws IOException {
        conn.close();
    }
}
