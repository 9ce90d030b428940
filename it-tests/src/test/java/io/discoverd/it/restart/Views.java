package io.discoverd.it.restart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.discoverd.it.json.JsonRpcClient;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Reading the output of {@code gobclient watch} and {@code gobclient heartbeat} (see
 * {@link GoProcess}), and the one-shot JSON calls the restart and drain tests share.
 */
final class Views {

    private Views() {
    }

    /**
     * The instances (Addr → {@code Created}) that the watcher's current subscription holds after
     * the events {@code [0, upTo)}: a {@code subscribed} event starts afresh (a new snapshot
     * follows), online items add or replace, offline items remove.
     */
    static Map<String, Long> view(List<JsonNode> events, int upTo) {
        Map<String, Long> view = new TreeMap<>();
        for (JsonNode e : events.subList(0, upTo)) {
            switch (e.path("ev").asText()) {
                case "subscribed" -> view.clear();
                case "update" -> {
                    if (e.path("Online").asBoolean()) {
                        view.put(e.path("Addr").asText(), e.path("Created").asLong());
                    } else {
                        view.remove(e.path("Addr").asText());
                    }
                }
                default -> {
                }
            }
        }
        return view;
    }

    /** {@link #view(List, int)} of everything so far. */
    static Map<String, Long> view(GoProcess watcher) {
        List<JsonNode> events = watcher.events();
        return view(events, events.size());
    }

    /**
     * Waits until the watcher's current subscription has passed its sentinel and its view matches.
     *
     * @return the view
     */
    static Map<String, Long> awaitView(GoProcess watcher, Predicate<Map<String, Long>> match, Duration timeout, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<JsonNode> events = watcher.events();
            Map<String, Long> view = view(events, events.size());
            if (pastSentinel(events) && match.test(view)) {
                return view;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("watcher never showed " + what + " within " + timeout + "; view " + view + "\n"
                        + watcher.describe());
            }
            Thread.sleep(50);
        }
    }

    private static boolean pastSentinel(List<JsonNode> events) {
        for (int i = events.size() - 1; i >= 0; i--) {
            String ev = events.get(i).path("ev").asText();
            if (ev.equals("sentinel")) {
                return true;
            }
            if (ev.equals("subscribed")) {
                return false;
            }
        }
        return false;
    }

    /** The {@code update} events at or after index {@code from}, live ones only (not snapshot items). */
    static List<JsonNode> liveUpdates(GoProcess watcher, int from) {
        List<JsonNode> events = watcher.events();
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode e : events.subList(Math.min(from, events.size()), events.size())) {
            if (e.path("ev").asText().equals("update") && !e.path("snapshot").asBoolean()) {
                out.add(e);
            }
        }
        return out;
    }

    /** The {@code update} events at or after index {@code from} with {@code Online} false. */
    static List<JsonNode> offlineUpdates(GoProcess watcher, int from) {
        List<JsonNode> events = watcher.events();
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode e : events.subList(Math.min(from, events.size()), events.size())) {
            if (e.path("ev").asText().equals("update") && !e.path("Online").asBoolean()) {
                out.add(e);
            }
        }
        return out;
    }

    /** The events at or after index {@code from} whose {@code ev} is the given kind. */
    static List<JsonNode> eventsOf(GoProcess process, String kind, int from) {
        List<JsonNode> events = process.events();
        return events.subList(Math.min(from, events.size()), events.size()).stream()
                .filter(e -> e.path("ev").asText().equals(kind)).toList();
    }

    /** A heartbeat round in which every Register succeeded. */
    static boolean okRound(JsonNode e) {
        return e.path("ev").asText().equals("round") && e.path("ok").asBoolean();
    }

    /**
     * Waits until the heartbeat client has completed {@code n} successful rounds at or after
     * index {@code from}.
     */
    static void awaitOkRounds(GoProcess heartbeat, int from, int n, Duration timeout) throws InterruptedException {
        int at = from;
        for (int i = 0; i < n; i++) {
            at = heartbeat.await(at, Views::okRound, timeout, "successful heartbeat round " + (i + 1) + " of " + n) + 1;
        }
    }

    /** Agent.Leader through the daemon on {@code port} (JSON codec): the leader's Addr and Created. */
    static String leader(int port, String name) throws IOException, InterruptedException {
        try (JsonRpcClient c = JsonRpcClient.connect(port)) {
            JsonRpcClient.Msg m = c.call("Agent.Leader", JsonRpcClient.args(name, null, null));
            assertNull(m.error(), () -> "Agent.Leader " + name + " on port " + port + ": " + m.raw());
            return m.result().path("Addr").asText() + " created " + m.result().path("Created").asLong();
        }
    }

    /** A fresh subscription's snapshot through the daemon on {@code port}: Addr → Created. */
    static Map<String, Long> snapshot(int port, String name) throws IOException, InterruptedException {
        try (JsonRpcClient c = JsonRpcClient.connect(port)) {
            Map<String, Long> out = new TreeMap<>();
            for (JsonNode u : c.subscribe(name, JsonRpcClient.freshId())) {
                assertEquals(true, u.path("Online").asBoolean(), () -> "snapshot item not online: " + u);
                out.put(u.path("Addr").asText(), u.path("Created").asLong());
            }
            return out;
        }
    }
}
