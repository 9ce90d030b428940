package io.discoverd.bench.load;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * A closed-loop load: {@code concurrency} operations in flight at all times until {@code total}
 * have completed (each completion starts the next), so the daemon and the raw client are driven the
 * same way. Latency clocks start when an operation is issued.
 */
public final class ClosedLoop {

    private ClosedLoop() {
    }

    /**
     * Runs operations {@code 0 .. total-1}.
     *
     * @param concurrency operations in flight
     * @param total       operations in all
     * @param op          starts operation {@code i}; must not block
     * @param latencies   where each operation's latency goes, or {@code null}
     * @param timeoutMs   the longest the whole run may take, in ms
     * @return the elapsed time in ns from the first issue to the last completion
     * @throws Exception the first operation failure, or a timeout
     */
    public static long run(int concurrency, int total, IntFunction<CompletionStage<?>> op, Latencies latencies,
                           long timeoutMs) throws Exception {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CompletableFuture<Void> finished = new CompletableFuture<>();
        long start = System.nanoTime();
        Runnable[] issue = new Runnable[1];
        issue[0] = () -> {
            int i = next.getAndIncrement();
            if (i >= total || failure.get() != null) {
                return;
            }
            long t0 = System.nanoTime();
            CompletionStage<?> stage;
            try {
                stage = op.apply(i);
            } catch (RuntimeException e) {
                stage = CompletableFuture.failedFuture(e);
            }
            stage.whenComplete((v, e) -> {
                if (latencies != null) {
                    latencies.record(System.nanoTime() - t0);
                }
                if (e != null && failure.compareAndSet(null, e)) {
                    finished.completeExceptionally(e);
                    return;
                }
                if (done.incrementAndGet() == total) {
                    finished.complete(null);
                } else {
                    issue[0].run();
                }
            });
        };
        if (total == 0) {
            return 0;
        }
        for (int c = 0; c < Math.min(concurrency, total); c++) {
            issue[0].run();
        }
        finished.get(timeoutMs, TimeUnit.MILLISECONDS);
        return System.nanoTime() - start;
    }

    /**
     * Like {@link #run} but for a fixed time: operations are issued until {@code durationMs} has
     * passed, then the ones in flight complete.
     *
     * @return the number of operations completed, and the elapsed ns, as {@code long[]{count, nanos}}
     */
    public static long[] runFor(int concurrency, long durationMs, IntFunction<CompletionStage<?>> op) throws Exception {
        long start = System.nanoTime();
        long end = start + TimeUnit.MILLISECONDS.toNanos(durationMs);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CompletableFuture<Void> finished = new CompletableFuture<>();
        Runnable[] issue = new Runnable[1];
        issue[0] = () -> {
            if (System.nanoTime() >= end || failure.get() != null) {
                if (inFlight.get() == 0) {
                    finished.complete(null);
                }
                return;
            }
            inFlight.incrementAndGet();
            CompletionStage<?> stage;
            try {
                stage = op.apply(next.getAndIncrement());
            } catch (RuntimeException e) {
                stage = CompletableFuture.failedFuture(e);
            }
            stage.whenComplete((v, e) -> {
                if (e != null && failure.compareAndSet(null, e)) {
                    finished.completeExceptionally(e);
                }
                completed.incrementAndGet();
                inFlight.decrementAndGet();
                issue[0].run();
            });
        };
        for (int c = 0; c < concurrency; c++) {
            issue[0].run();
        }
        finished.get(durationMs + 60_000, TimeUnit.MILLISECONDS);
        return new long[] {completed.get(), System.nanoTime() - start};
    }
}
