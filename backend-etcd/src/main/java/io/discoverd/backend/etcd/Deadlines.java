package io.discoverd.backend.etcd;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Time limits of store calls, on one timer wheel per process (Netty's {@link HashedWheelTimer}).
 *
 * <p>Why not {@link CompletableFuture#orTimeout}: it puts every call's timeout in the JDK's single
 * delay queue, and a cancelled timeout stays there until its time comes, so under load the delay
 * thread wakes about once per call (a register makes two calls, an etcd heartbeat one) to drop a
 * timeout that no longer matters; on a two-core machine each wake is a context switch. A wheel
 * adds and cancels a timeout without waking anybody and ticks every {@value #TICK_MS} ms, so a
 * deadline fires up to that much late.
 *
 * <p>Thread-safe. The wheel's thread is a daemon thread started at the first deadline; it lives
 * as long as the process (one per process, whatever the number of backends).
 */
final class Deadlines {

    /** The wheel's tick, in ms: how late a deadline may fire at most. */
    static final long TICK_MS = 20;

    private static final class Wheel {
        static final HashedWheelTimer INSTANCE = new HashedWheelTimer(daemonThreads(), TICK_MS, TimeUnit.MILLISECONDS, 512);
    }

    private Deadlines() {
    }

    /**
     * Fails {@code call} with a {@link TimeoutException} unless it completes within {@code timeoutMs},
     * as {@link CompletableFuture#orTimeout} does.
     *
     * @param call      the call's future; completed exceptionally when its time is up
     * @param timeoutMs the limit, in ms (positive)
     * @return {@code call}
     */
    static <T> CompletableFuture<T> within(CompletableFuture<T> call, long timeoutMs) {
        if (call.isDone()) {
            return call;
        }
        Timeout timeout = Wheel.INSTANCE.newTimeout(
                t -> call.completeExceptionally(new TimeoutException("no answer within " + timeoutMs + " ms")),
                timeoutMs, TimeUnit.MILLISECONDS);
        call.whenComplete((v, e) -> timeout.cancel());
        return call;
    }

    /**
     * Completes {@code f} with {@code value} unless it completes within {@code timeoutMs}, as
     * {@link CompletableFuture#completeOnTimeout} does.
     *
     * @param f         the future; completed with {@code value} when its time is up
     * @param value     the value then, may be {@code null}
     * @param timeoutMs the limit, in ms (positive)
     * @return {@code f}
     */
    static <T> CompletableFuture<T> completeWithin(CompletableFuture<T> f, T value, long timeoutMs) {
        if (f.isDone()) {
            return f;
        }
        Timeout timeout = Wheel.INSTANCE.newTimeout(t -> f.complete(value), timeoutMs, TimeUnit.MILLISECONDS);
        f.whenComplete((v, e) -> timeout.cancel());
        return f;
    }

    /** Deadlines armed and not yet fired or dropped (a cancelled one is dropped at the wheel's next tick); for tests. */
    static long pending() {
        return Wheel.INSTANCE.pendingTimeouts();
    }

    private static ThreadFactory daemonThreads() {
        return r -> {
            Thread t = new Thread(r, "discoverd-etcd-deadlines");
            t.setDaemon(true);
            return t;
        };
    }
}
