package io.discoverd.server.cli;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.discoverd.client.ServiceInstance;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The single place that turns instances into the command line's output. Formats are stable API
 * (scripts parse them):
 *
 * <ul>
 *   <li>table ({@code services}): a header {@code ADDR CREATED ATTRS}, then one row per instance,
 *       columns left-aligned and separated by two spaces, the last one unpadded;</li>
 *   <li>instance line ({@code leader}): {@code ADDR created=N[ ATTRS]};</li>
 *   <li>event line ({@code watch}): {@code online  } or {@code offline } then the instance line;</li>
 *   <li>JSON: one object per instance, fields {@code name}, {@code addr}, ({@code online} for
 *       events), {@code attrs} (an object, {@code {}} when there are none) and {@code created} (a
 *       number, unsigned 64 bits), in that order, on one line.</li>
 * </ul>
 *
 * <p>Attributes are written {@code k=v} joined by {@code ,}, in key order; a key or value that is
 * empty or holds anything but letters, digits and {@code ._:/@+-} is written as a JSON string, so
 * the text stays unambiguous ({@code note="a, b"}). No attributes: {@code -} in the table, nothing
 * in an instance line.
 */
final class Render {

    private static final Pattern BARE = Pattern.compile("[A-Za-z0-9._:/@+-]+");
    private static final String SEP = "  ";

    private Render() {
    }

    /** The table of {@code instances}, in the given order, each line ending with a newline. */
    static String table(List<ServiceInstance> instances) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ADDR", "CREATED", "ATTRS"});
        for (ServiceInstance i : instances) {
            rows.add(new String[] {i.addr(), created(i), i.attrs().isEmpty() ? "-" : attrs(i.attrs())});
        }
        int[] width = new int[2];
        for (String[] r : rows) {
            width[0] = Math.max(width[0], r[0].length());
            width[1] = Math.max(width[1], r[1].length());
        }
        StringBuilder b = new StringBuilder();
        for (String[] r : rows) {
            b.append(pad(r[0], width[0])).append(SEP).append(pad(r[1], width[1])).append(SEP).append(r[2]).append('\n');
        }
        return b.toString();
    }

    /** {@code ADDR created=N[ ATTRS]}. */
    static String line(ServiceInstance i) {
        String s = i.addr() + " created=" + created(i);
        return i.attrs().isEmpty() ? s : s + " " + attrs(i.attrs());
    }

    /** {@code online  LINE} or {@code offline LINE}. */
    static String event(ServiceInstance i) {
        return (i.online() ? "online  " : "offline ") + line(i);
    }

    /** A leader as an instance line, or {@code (no leader)}. */
    static String leader(Optional<ServiceInstance> leader) {
        return leader.map(Render::line).orElse("(no leader)");
    }

    /** One JSON object; {@code withOnline} adds the {@code online} field (events); nil attrs print as {@code null}. */
    static String json(ServiceInstance i, boolean withOnline) {
        StringBuilder b = new StringBuilder("{\"name\":").append(quote(i.name()))
                .append(",\"addr\":").append(quote(i.addr()));
        if (withOnline) {
            b.append(",\"online\":").append(i.online());
        }
        b.append(",\"attrs\":");
        if (i.attrsNil()) {
            b.append("null"); // nil on the wire, not {} (PROTOCOL.md §5.3)
        } else {
            b.append('{');
            String comma = "";
            for (Map.Entry<String, String> e : i.attrs().entrySet()) {
                b.append(comma).append(quote(e.getKey())).append(':').append(quote(e.getValue()));
                comma = ",";
            }
            b.append('}');
        }
        return b.append(",\"created\":").append(created(i)).append('}').toString();
    }

    /** A JSON array of instances, one object per line; {@code []} when empty. Ends with a newline. */
    static String jsonArray(List<ServiceInstance> instances) {
        if (instances.isEmpty()) {
            return "[]\n";
        }
        StringBuilder b = new StringBuilder("[\n");
        for (int n = 0; n < instances.size(); n++) {
            b.append("  ").append(json(instances.get(n), false)).append(n + 1 < instances.size() ? ",\n" : "\n");
        }
        return b.append("]\n").toString();
    }

    /** A leader as JSON, {@code null} when there is none. */
    static String jsonLeader(Optional<ServiceInstance> leader) {
        return leader.map(l -> json(l, false)).orElse("null");
    }

    static String attrs(Map<String, String> attrs) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : attrs.entrySet()) {
            if (b.length() > 0) {
                b.append(',');
            }
            b.append(token(e.getKey())).append('=').append(token(e.getValue()));
        }
        return b.toString();
    }

    private static String token(String s) {
        return BARE.matcher(s).matches() ? s : quote(s);
    }

    private static String quote(String s) {
        return '"' + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + '"';
    }

    private static String created(ServiceInstance i) {
        return Long.toUnsignedString(i.created());
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }
}
