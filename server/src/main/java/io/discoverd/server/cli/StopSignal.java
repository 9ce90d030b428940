package io.discoverd.server.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * The request to end a holding command ({@code register}, {@code watch}, {@code leader --follow}):
 * SIGINT, SIGTERM or SIGHUP for a real process, {@link #trigger()} in tests.
 *
 * <p>Why signal handlers and not a shutdown hook: a shutdown hook runs while the JVM is already
 * exiting with status 128+signal, and {@code register} must still unregister and then exit 0. The
 * handlers replace the JVM's default ones only once a holding command starts waiting, so the
 * daemon ({@code serve}) keeps the JVM's own behaviour (shutdown hook, exit 130/143). A second
 * signal while the command is finishing ends the process at once with 128+signal.
 *
 * <p>Thread-safe.
 */
public final class StopSignal {

    private static final String[] SIGNALS = {"INT", "TERM", "HUP"};

    private final CountDownLatch stop = new CountDownLatch(1);
    private final boolean fromSignals;
    private final AtomicBoolean armed = new AtomicBoolean();

    private StopSignal(boolean fromSignals) {
        this.fromSignals = fromSignals;
    }

    /** Triggered by SIGINT, SIGTERM or SIGHUP; handlers are installed by the first {@link #await}. */
    public static StopSignal onSignals() {
        return new StopSignal(true);
    }

    /** Triggered only by {@link #trigger()}. */
    public static StopSignal manual() {
        return new StopSignal(false);
    }

    /** Requests the stop. Idempotent. */
    public void trigger() {
        stop.countDown();
    }

    /** Whether the stop was requested. */
    public boolean isTriggered() {
        return stop.getCount() == 0;
    }

    /**
     * Waits up to {@code timeout} for the stop.
     *
     * @return {@code true} when it was requested
     * @throws InterruptedException when the waiting thread is interrupted
     */
    public boolean await(Duration timeout) throws InterruptedException {
        arm();
        return stop.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void arm() {
        if (!fromSignals || !armed.compareAndSet(false, true)) {
            return;
        }
        for (String name : SIGNALS) {
            try {
                // sun.misc.Signal (module jdk.unsupported) is the JDK's sanctioned way to handle a signal.
                Signal.handle(new Signal(name), s -> {
                    if (isTriggered()) {
                        Runtime.getRuntime().halt(128 + s.getNumber());
                    }
                    trigger();
                });
            } catch (IllegalArgumentException e) {
                // unknown on this platform, or reserved by the JVM (-Xrs): keep the default action
            }
        }
    }
}
