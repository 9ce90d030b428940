package io.discoverd.bench.scenario;

/** One benchmark scenario of issue 6, run against one backend. */
public interface Scenario {

    /** The short name in the table, e.g. {@code 1 register}. */
    String name();

    /**
     * Runs the scenario and adds its rows and notes to {@code run.report()}.
     *
     * @throws Exception a failed operation or a timeout: the run stops with it
     */
    void run(BenchRun run) throws Exception;
}
