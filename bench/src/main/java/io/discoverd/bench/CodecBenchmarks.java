package io.discoverd.bench;

import io.discoverd.bench.codec.GobCodecBenchmarks;
import io.discoverd.bench.report.Report;
import java.io.PrintStream;
import java.util.Collection;
import java.util.Comparator;
import java.util.Locale;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Scenario 7: JMH micro-benchmarks of the gob and JSON codecs (Register and ServiceUpdate), the
 * classes of {@code io.discoverd.bench.codec}, run through JMH's {@link Runner} and added to the
 * report as average time per operation in ns (throughput per thread is {@code 1e9 / score} ops/s).
 *
 * <p>Forked runs start a JVM on this JVM's {@code java.class.path}, which is the shaded bench jar
 * itself: its {@code META-INF/BenchmarkList} (written by JMH's annotation processor) lists the
 * benchmarks; forks get a 1 GiB heap of their own, not this JVM's options (a pre-touched heap of
 * this JVM's size would cost each fork seconds of page clearing). The smoke profile runs in this JVM (no fork) so
 * that it takes a few seconds in {@code bin/test}.
 */
final class CodecBenchmarks {

    /** The package whose benchmarks run; results are named without it ({@code GobCodecBenchmarks.serverEncodeUpdate}). */
    private static final String PACKAGE = GobCodecBenchmarks.class.getPackageName();

    private CodecBenchmarks() {
    }

    /**
     * Runs every codec benchmark with the profile's sizes and adds one JMH result per benchmark to
     * the report. Prints JMH's own progress only for the full profile. Blocks until done, with the six
     * benchmarks: about 3 s for smoke, 15 s for quick, 4 min for full.
     *
     * @throws RunnerException when a benchmark fails, e.g. its setup found that a codec does not
     *                         round-trip its message
     */
    static void run(Profile profile, Report report, PrintStream out) throws RunnerException {
        Sizes sizes = switch (profile.name()) {
            case "smoke" -> new Sizes(0, 0, TimeValue.NONE, 1, TimeValue.milliseconds(100), VerboseMode.SILENT);
            case "quick" -> new Sizes(1, 1, TimeValue.milliseconds(300), 2, TimeValue.milliseconds(300), VerboseMode.SILENT);
            default -> new Sizes(2, 3, TimeValue.seconds(2), 5, TimeValue.seconds(2), VerboseMode.NORMAL);
        };
        Options options = new OptionsBuilder()
                .include("^" + Pattern.quote(PACKAGE + "."))
                .forks(sizes.forks())
                .jvmArgs("-Xms1g", "-Xmx1g")
                .warmupIterations(sizes.warmups()).warmupTime(sizes.warmupTime())
                .measurementIterations(sizes.iterations()).measurementTime(sizes.iterationTime())
                .shouldFailOnError(true)
                .verbosity(sizes.verbosity())
                .build();
        report.note("codec: JMH, " + (sizes.forks() == 0 ? "in the bench's JVM" : sizes.forks() + " fork(s)") + ", "
                + (sizes.warmups() == 0 ? "no warmup" : sizes.warmups() + " warmup iteration(s) of " + sizes.warmupTime())
                + ", " + sizes.iterations()
                + " iteration(s) of " + sizes.iterationTime() + ", one thread; score = average ns per message"
                + " (ops/s = 1e9 / score), error = 99.9% confidence half-width (none under 3 iterations);"
                + " gob figures are a connection's steady state (its types already defined)");
        long t0 = System.nanoTime();
        Collection<RunResult> results = new Runner(options, OutputFormatFactory.createFormatInstance(out, sizes.verbosity())).run();
        results.stream().sorted(Comparator.comparing(r -> r.getParams().getBenchmark())).forEach(r -> {
            Result<?> p = r.getPrimaryResult();
            String name = r.getParams().getBenchmark().substring(PACKAGE.length() + 1);
            report.jmh(name, r.getParams().getMode().shortLabel(), p.getScore(), p.getScoreError(), p.getScoreUnit());
        });
        out.printf(Locale.ROOT, "   %d benchmarks (%.1f s)%n", results.size(), (System.nanoTime() - t0) / 1e9);
    }

    /** JMH sizes of one profile; times per iteration. */
    private record Sizes(int forks, int warmups, TimeValue warmupTime, int iterations, TimeValue iterationTime,
                         VerboseMode verbosity) {
    }
}
