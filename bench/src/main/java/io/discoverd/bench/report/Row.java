package io.discoverd.bench.report;

/**
 * One measured figure of a run: the daemon's value beside the raw store client's value for the same
 * work in the same run, and their ratio.
 *
 * @param backend  {@code zookeeper} or {@code etcd}
 * @param scenario e.g. {@code 1 register}
 * @param metric   what was measured, e.g. {@code throughput}
 * @param unit     e.g. {@code ops/s}, {@code ms}, {@code B}
 * @param daemon   the daemon's figure
 * @param raw      the raw store client's figure, or {@code null} when there is no raw counterpart
 * @param ratio    {@code daemon / raw}, or {@code null} without a raw figure
 * @param target   the target for this figure in words, or {@code null}
 * @param met      whether the target holds in this run, or {@code null} without a target
 */
public record Row(String backend, String scenario, String metric, String unit, double daemon, Double raw,
                  Double ratio, String target, Boolean met) {

    /** A figure with a raw counterpart; the ratio is computed. */
    public static Row compared(String backend, String scenario, String metric, String unit, double daemon, double raw,
                               String target, Boolean met) {
        return new Row(backend, scenario, metric, unit, daemon, raw, raw == 0 ? null : daemon / raw, target, met);
    }

    /** A figure of the daemon alone. */
    public static Row alone(String backend, String scenario, String metric, String unit, double daemon,
                            String target, Boolean met) {
        return new Row(backend, scenario, metric, unit, daemon, null, null, target, met);
    }
}
