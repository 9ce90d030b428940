package io.discoverd.backend;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the durations of {@code conf/discoverd.yaml}: a whole number with a unit, {@code ms},
 * {@code s}, {@code m} or {@code h} (e.g. {@code 10s}, {@code 1500ms}). A bare number is refused:
 * {@code registrationTtl: 10} would otherwise silently mean 10 ms and take every instance offline
 * between two heartbeats. One parser for the daemon and every backend. Thread-safe.
 */
public final class Durations {

    private static final Pattern FORM = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");

    private Durations() {
    }

    /**
     * Parses a configured duration.
     *
     * @param field the field's path in the config file, for the message (e.g. {@code zookeeper.sessionTimeout})
     * @param value a {@link String} as above; not {@code null}
     * @return a positive duration
     * @throws IllegalArgumentException naming the field when the value is malformed or not positive
     */
    public static Duration parse(String field, Object value) {
        Duration d;
        if (value instanceof Number n) {
            throw new IllegalArgumentException(field + ": give a unit: '" + n + "s' or '" + n + "ms' (ms, s, m or h)");
        } else if (value instanceof String s) {
            Matcher m = FORM.matcher(s.trim().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new IllegalArgumentException(field + ": not a duration: '" + s + "' (use e.g. 10s, 500ms, 1m)");
            }
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2);
            d = switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        } else {
            throw new IllegalArgumentException(field + ": not a duration: " + value);
        }
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(field + ": must be positive, got " + value);
        }
        return d;
    }
}
