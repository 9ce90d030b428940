package io.discoverd.bench;

import io.discoverd.bench.report.Report;
import java.io.PrintStream;

/** Scenario 7: JMH micro-benchmarks of the gob and JSON codecs (Register and ServiceUpdate). */
final class CodecBenchmarks {

    private CodecBenchmarks() {
    }

    static void run(Profile profile, Report report, PrintStream out) {
        throw new UnsupportedOperationException("scenario 7 is not written yet");
    }
}
