package io.discoverd.bench.load;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time of the load generator's own JVM and of the whole machine, to show where a throughput's
 * limit lies: when the machine's cores are busy and the load generator holds a good share of them,
 * the figure is a bound of this machine, not of the daemon.
 */
public final class CpuClock {

    private final long ownNanos;
    private final long machineBusyTicks;
    private final long machineTotalTicks;

    private CpuClock(long ownNanos, long busy, long total) {
        this.ownNanos = ownNanos;
        this.machineBusyTicks = busy;
        this.machineTotalTicks = total;
    }

    /** Reads the clocks now. */
    public static CpuClock now() {
        long own = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        long busy = 0;
        long total = 0;
        try {
            // /proc/stat "cpu  user nice system idle iowait irq softirq steal ...": idle and iowait are not busy.
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            for (int i = 1; i < Math.min(f.length, 9); i++) {
                long v = Long.parseLong(f[i]);
                total += v;
                if (i != 4 && i != 5) {
                    busy += v;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: machine figures stay 0
        }
        return new CpuClock(own, busy, total);
    }

    /**
     * This clock moved on by what the clocks advanced from {@code start} to {@code end}: a side timed
     * in two parts reads, from the first part's start, as one interval of both parts' CPU.
     */
    public CpuClock plus(CpuClock start, CpuClock end) {
        return new CpuClock(ownNanos + end.ownNanos - start.ownNanos, machineBusyTicks + end.machineBusyTicks - start.machineBusyTicks,
                machineTotalTicks + end.machineTotalTicks - start.machineTotalTicks);
    }

    /** The load generator's CPU time since {@code start}, in ns. */
    public long ownNanosSince(CpuClock start) {
        return ownNanos - start.ownNanos;
    }

    /** The machine's busy share of all cores since {@code start}, 0–100 (%), or -1 when unknown. */
    public double machineBusyPercentSince(CpuClock start) {
        long total = machineTotalTicks - start.machineTotalTicks;
        return total <= 0 ? -1 : 100.0 * (machineBusyTicks - start.machineBusyTicks) / total;
    }
}
