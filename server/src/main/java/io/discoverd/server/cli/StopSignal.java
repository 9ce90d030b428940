package io.discoverd.server.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * The request to end a holding command ({@code register}, {@code watch}, {@code leader --follow}):
 * SIGINT, SIGTERM or SIGHUP for a real process, {@link #trigger()} in tests.
 *
 * <p>Why signal handlers and not a shutdown hook: a shutdown hook runs while the JVM is already
 * exiting with status 128+signal, and {@code register} must still unregister and then exit 0. The
 * handlers replace the JVM's default ones only when a holding command {@linkplain #arm() arms} them
 * (before it registers anything, so that a Ctrl-C right after the registration still unregisters) or
 * starts waiting, so the daemon ({@code serve}) keeps the JVM's own behaviour (shutdown hook, exit
 * 130/143). A second signal while the command is finishing ends the process at once with
 * 128+signal.
 *
 * <p>A signal the process inherited as ignored stays ignored: {@code nohup discoverd register …}
 * survives a hangup. (The JVM does not install a handler for an ignored SIGHUP, SIGINT or SIGTERM
 * and reports it as {@code SIG_IGN}, which is how this is detected.)
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

    /** Triggered by SIGINT, SIGTERM or SIGHUP; handlers are installed by {@link #arm()} or the first {@link #await}. */
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

    /**
     * Installs the signal handlers now (no-op for {@link #manual()} and when already installed): from
     * here on SIGINT, SIGTERM and SIGHUP trigger the stop instead of ending the JVM. Signals ignored at
     * start stay ignored.
     */
    public void arm() {
        if (!fromSignals || !armed.compareAndSet(false, true)) {
            return;
        }
        for (String name : SIGNALS) {
            try {
                // sun.misc.Signal (module jdk.unsupported) is the JDK's sanctioned way to handle a signal.
                Signal sig = new Signal(name);
                SignalHandler previous = Signal.handle(sig, s -> {
                    if (isTriggered()) {
                        Runtime.getRuntime().halt(128 + s.getNumber());
                    }
                    trigger();
                });
                if (previous == SignalHandler.SIG_IGN) {
                    Signal.handle(sig, SignalHandler.SIG_IGN); // inherited as ignored (nohup): keep it so
                }
            } catch (IllegalArgumentException e) {
                // unknown on this platform, or reserved by the JVM (-Xrs): keep the default action
            }
        }
    }
}
