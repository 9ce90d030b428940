package io.discoverd.bench.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A run's results: the rows, the notes that say how each figure was made (store calls of the raw
 * baseline, concurrency, TTLs), and the machine. Printed as a table and written as JSON.
 *
 * <p>Thread-safe (rows may be added from any thread).
 */
public final class Report {

    /** The table's column headings, aligned as {@link #line} aligns a row. */
    private static final String HEADINGS = String.format(Locale.ROOT, "%-9s %-14s %-44s %14s %14s %12s  %-28s %s",
            "backend", "scenario", "metric", "daemon", "raw", "daemon ÷ raw", "target", "met");

    private final Map<String, Object> machine;
    private final String mode;
    private final List<Row> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<Map<String, Object>> jmh = new ArrayList<>();

    /** @param mode {@code smoke}, {@code quick} or {@code full} */
    public Report(String mode, Map<String, Object> machine) {
        this.mode = mode;
        this.machine = machine;
    }

    /** Adds a row and prints it at once (a long run shows progress), after the column headings for the first. */
    public synchronized void add(Row row, PrintStream progress) {
        if (rows.isEmpty()) {
            progress.println("  " + HEADINGS);
        }
        rows.add(row);
        progress.println("  " + line(row));
    }

    /** Adds a note that explains how figures were made ({@code [backend] scenario: text}). */
    public synchronized void note(String text) {
        notes.add(text);
    }

    /** Adds one JMH result. */
    public synchronized void jmh(String benchmark, String mode, double score, double error, String unit) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("benchmark", benchmark);
        r.put("mode", mode);
        r.put("score", score);
        r.put("error", Double.isNaN(error) ? null : error); // JMH gives none under 3 iterations
        r.put("unit", unit);
        jmh.add(r);
    }

    /** The rows so far, in order. */
    public synchronized List<Row> rows() {
        return List.copyOf(rows);
    }

    /** Rows whose target does not hold. */
    public synchronized List<Row> missed() {
        return rows.stream().filter(r -> Boolean.FALSE.equals(r.met())).toList();
    }

    /** Prints the whole table, the JMH results and the notes. */
    public synchronized void print(PrintStream out) {
        out.println();
        out.println(HEADINGS);
        for (Row r : rows) {
            out.println(line(r));
        }
        if (!jmh.isEmpty()) {
            out.println();
            out.printf(Locale.ROOT, "%-60s %6s %14s %12s  %s%n", "JMH benchmark", "mode", "score", "error", "unit");
            for (Map<String, Object> r : jmh) {
                out.printf(Locale.ROOT, "%-60s %6s %14.3f %12s  %s%n", r.get("benchmark"), r.get("mode"),
                        (Double) r.get("score"), error(r), r.get("unit"));
            }
        }
        out.println();
        for (String n : notes) {
            out.println("note: " + n);
        }
    }

    /** "yes", "NO", "" without a target, or "(full size)" for a target that applies only at the full run's sizes. */
    private static String met(Row r) {
        if (r.target() == null) {
            return "";
        }
        return r.met() == null ? "(full size)" : r.met() ? "yes" : "NO";
    }

    private static String error(Map<String, Object> jmhResult) {
        Object e = jmhResult.get("error");
        return e == null ? "-" : String.format(Locale.ROOT, "%.3f", (Double) e);
    }

    private static String line(Row r) {
        return String.format(Locale.ROOT, "%-9s %-14s %-44s %14s %14s %12s  %-28s %s",
                r.backend(), r.scenario(), r.metric() + " (" + r.unit() + ")", number(r.daemon()),
                r.raw() == null ? "-" : number(r.raw()), r.ratio() == null ? "-" : String.format(Locale.ROOT, "%.2f", r.ratio()),
                r.target() == null ? "" : r.target(), met(r));
    }

    private static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return String.format(Locale.ROOT, "%,d", (long) v);
        }
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.3f", v);
    }

    /**
     * Writes the results as Markdown: the machine, one table per backend, the JMH table and the notes
     * (the generated part of {@code docs/benchmarks.md}).
     */
    public synchronized void writeMarkdown(Path file, String command) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("Generated by `").append(command).append("` (mode ").append(mode).append(").\n\n");
        md.append("| machine | |\n|---|---|\n");
        machine.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v).append(" |\n"));
        for (String backend : rows.stream().map(Row::backend).distinct().toList()) {
            md.append("\n### ").append(backend).append("\n\n");
            md.append("| scenario | metric | daemon | raw | daemon ÷ raw | target | met |\n|---|---|---:|---:|---:|---|---|\n");
            for (Row r : rows) {
                if (!r.backend().equals(backend)) {
                    continue;
                }
                md.append("| ").append(r.scenario()).append(" | ").append(r.metric()).append(" (").append(r.unit()).append(") | ")
                        .append(number(r.daemon())).append(" | ").append(r.raw() == null ? "–" : number(r.raw())).append(" | ")
                        .append(r.ratio() == null ? "–" : String.format(Locale.ROOT, "%.2f", r.ratio())).append(" | ")
                        .append(r.target() == null ? "" : r.target()).append(" | ")
                        .append(r.met() == null ? met(r) : r.met() ? "yes" : "**no**").append(" |\n");
            }
        }
        if (!jmh.isEmpty()) {
            md.append("\n### JMH codec benchmarks\n\n| benchmark | mode | score | error | unit |\n|---|---|---:|---:|---|\n");
            for (Map<String, Object> r : jmh) {
                md.append(String.format(Locale.ROOT, "| %s | %s | %.3f | %s | %s |%n", r.get("benchmark"), r.get("mode"),
                        (Double) r.get("score"), error(r), r.get("unit")));
            }
        }
        md.append("\n### How each figure was made\n\n");
        for (String n : notes) {
            md.append("- ").append(n).append("\n");
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, md.toString());
    }

    /** Writes the whole report as JSON. */
    public synchronized void writeJson(Path file) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("mode", mode);
        root.put("machine", machine);
        root.put("rows", rows);
        root.put("jmh", jmh);
        root.put("notes", notes);
        Files.createDirectories(file.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), root);
    }
}
