package io.discoverd.backend.etcd;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Time limits of store calls on a timer wheel (Netty's {@link HashedWheelTimer}); the backend uses
 * one wheel per process, {@link #shared()}.
 *
 * <p>Why not {@link CompletableFuture#orTimeout}: on JDK 17 every call's timeout is added to and
 * cancelled from the JDK's one delay queue under its lock, from every thread that makes or answers
 * calls (gRPC's, the event loops, the service executors). A wheel adds and cancels a timeout
 * through lock-free queues. Measured with the bench, one run each: daemon CPU per etcd registration
 * 356 µs with {@code orTimeout}, 251 µs with the wheel.
 *
 * <p>A deadline fires on the wheel's thread, about one tick late ({@value #TICK_MS} ms; later when
 * what runs on completion is slow), as an {@code orTimeout} fires on the JDK's delay thread: what is
 * chained on the call then runs there.
 *
 * <p>Thread-safe. The shared wheel's thread is a daemon thread started at the first deadline and
 * ticking for the life of the process (ten wakes a second); request timeouts are seconds.
 */
final class Deadlines {

    /** The shared wheel's tick, in ms. */
    static final long TICK_MS = 100;

    private static final class Shared {
        static final Deadlines INSTANCE = new Deadlines(new HashedWheelTimer(r -> {
            Thread t = new Thread(r, "discoverd-etcd-deadlines");
            t.setDaemon(true);
            return t;
        }, TICK_MS, TimeUnit.MILLISECONDS, 512));
    }

    private final HashedWheelTimer wheel;

    /** @param wheel the wheel the deadlines go on (tests give their own) */
    Deadlines(HashedWheelTimer wheel) {
        this.wheel = wheel;
    }

    /** The process's wheel. */
    static Deadlines shared() {
        return Shared.INSTANCE;
    }

    /**
     * Fails {@code call} with a {@link TimeoutException} unless it completes within {@code timeoutMs},
     * as {@link CompletableFuture#orTimeout} does.
     *
     * @param call      the call's future; completed exceptionally when its time is up
     * @param timeoutMs the limit, in ms (positive)
     * @return {@code call}
     */
    <T> CompletableFuture<T> within(CompletableFuture<T> call, long timeoutMs) {
        return arm(call, () -> call.completeExceptionally(new TimeoutException("no answer within " + timeoutMs + " ms")),
                timeoutMs);
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
    <T> CompletableFuture<T> completeWithin(CompletableFuture<T> f, T value, long timeoutMs) {
        return arm(f, () -> f.complete(value), timeoutMs);
    }

    /** Runs {@code onTime} after {@code timeoutMs} unless {@code f} completes first (then the deadline is dropped). */
    private <T> CompletableFuture<T> arm(CompletableFuture<T> f, Runnable onTime, long timeoutMs) {
        if (f.isDone()) {
            return f;
        }
        Timeout timeout = wheel.newTimeout(t -> onTime.run(), timeoutMs, TimeUnit.MILLISECONDS);
        f.whenComplete((v, e) -> timeout.cancel());
        return f;
    }

    /** Deadlines armed and not yet fired or dropped (a cancelled one is dropped at the wheel's next tick). */
    long pending() {
        return wheel.pendingTimeouts();
    }
}
