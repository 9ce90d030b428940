package io.discoverd.backend;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscriber's handle and its guarded listener, for backends to hand out from
 * {@link DiscoveryBackend#subscribe}: it enforces {@link SubscriptionListener}'s rules (one
 * {@code current()}, nothing after {@code close()} returns or after {@code failed}).
 *
 * <p>Delivery holds no lock across a listener call: a call first moves the state OPEN → DELIVERING
 * with a compare-and-set and back afterwards; {@link #close()} sets CLOSED unconditionally. So
 * {@link #close()} never waits (it may run on a Vert.x event loop while a backend thread is inside
 * the listener), and no listener call starts after it returns (SubscriptionListener's contract; a
 * call already under way may finish). Callers deliver from one thread at a time (the service's
 * sequential executor), so calls are never concurrent. A listener that throws is logged, not
 * propagated.
 *
 * <p>Thread-safe.
 */
public final class GuardedSubscription implements Subscription {

    private static final Logger LOG = LoggerFactory.getLogger(GuardedSubscription.class);
    private static final int OPEN = 0;
    private static final int DELIVERING = 1;
    private static final int CLOSED = 2;

    private final String name;
    private final SubscriptionListener listener;
    private final Consumer<GuardedSubscription> onClose;
    private final AtomicInteger state = new AtomicInteger(OPEN);
    /** Written only inside a delivery; the state's compare-and-sets order it between deliverers. */
    private boolean sentCurrent;

    /**
     * @param name     the service name, for logs
     * @param listener the subscriber's listener
     * @param onClose  called once, by the first {@link #close()} (or {@link #fail}), on the closing thread
     */
    public GuardedSubscription(String name, SubscriptionListener listener, Consumer<GuardedSubscription> onClose) {
        this.name = name;
        this.listener = listener;
        this.onClose = onClose;
    }

    /** The service name. */
    public String name() {
        return name;
    }

    /** Whether {@link #close()} (or {@link #fail}) ran. */
    public boolean isClosed() {
        return state.get() == CLOSED;
    }

    /** Delivers {@code online} unless closed. */
    public void online(Instance instance) {
        deliver(() -> listener.online(instance));
    }

    /** Delivers {@code offline} unless closed. */
    public void offline(String n, String addr) {
        deliver(() -> listener.offline(n, addr));
    }

    /** Delivers {@code current()} unless closed or already delivered. */
    public void current() {
        deliver(this::currentOnce);
    }

    private void currentOnce() {
        if (!sentCurrent) {
            sentCurrent = true;
            guard(listener::current);
        }
    }

    /** Ends the subscription with an error, sending {@code current()} first if it was not sent. */
    public void fail(DiscoveryException cause) {
        deliver(() -> {
            currentOnce();
            if (state.get() == DELIVERING) { // not closed from inside current()
                guard(() -> listener.failed(cause));
            }
        });
        close();
    }

    /** Runs {@code call} unless closed; the state returns to OPEN afterwards unless closed meanwhile. */
    private void deliver(Runnable call) {
        if (!state.compareAndSet(OPEN, DELIVERING)) {
            return;
        }
        try {
            guard(call);
        } finally {
            state.compareAndSet(DELIVERING, OPEN);
        }
    }

    private void guard(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.warn("subscription listener for {} threw", name, e);
        }
    }

    @Override
    public void close() {
        if (state.getAndSet(CLOSED) != CLOSED) {
            onClose.accept(this);
        }
    }
}
