package io.discoverd.bench.load;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Latency samples in nanoseconds (HdrHistogram, 3 significant digits, up to 10 minutes), reported in
 * milliseconds. Thread-safe: samples may be recorded from any thread.
 */
public final class Latencies {

    private final Recorder recorder = new Recorder(600_000_000_000L, 3);
    private Histogram taken;

    /** Records one sample, in ns (negative values count as 0). */
    public void record(long nanos) {
        recorder.recordValue(Math.max(0, Math.min(nanos, 600_000_000_000L)));
    }

    private synchronized Histogram histogram() {
        Histogram h = recorder.getIntervalHistogram();
        if (taken == null) {
            taken = h;
        } else {
            taken.add(h);
        }
        return taken;
    }

    /** The given percentile (0–100), in ms. */
    public double percentileMs(double percentile) {
        return histogram().getValueAtPercentile(percentile) / 1e6;
    }

    /** The largest sample, in ms. */
    public double maxMs() {
        return histogram().getMaxValue() / 1e6;
    }

    /** How many samples were recorded. */
    public long count() {
        return histogram().getTotalCount();
    }
}
