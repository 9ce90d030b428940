package io.discoverd.backend.zookeeper;

import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Instance;
import io.discoverd.backend.Subscription;
import io.discoverd.backend.SubscriptionListener;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscriber's handle and its guarded listener.
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
final class ZkSubscription implements Subscription {

    private static final Logger LOG = LoggerFactory.getLogger(ZkSubscription.class);
    private static final int OPEN = 0;
    private static final int DELIVERING = 1;
    private static final int CLOSED = 2;

    private final String name;
    private final SubscriptionListener listener;
    private final Consumer<ZkSubscription> onClose;
    private final AtomicInteger state = new AtomicInteger(OPEN);
    /** Written only inside a delivery; the state's compare-and-sets order it between deliverers. */
    private boolean sentCurrent;

    ZkSubscription(String name, SubscriptionListener listener, Consumer<ZkSubscription> onClose) {
        this.name = name;
        this.listener = listener;
        this.onClose = onClose;
    }

    String name() {
        return name;
    }

    boolean isClosed() {
        return state.get() == CLOSED;
    }

    void online(Instance instance) {
        deliver(() -> listener.online(instance));
    }

    void offline(String n, String addr) {
        deliver(() -> listener.offline(n, addr));
    }

    void current() {
        deliver(this::currentOnce);
    }

    private void currentOnce() {
        if (!sentCurrent) {
            sentCurrent = true;
            guard(listener::current);
        }
    }

    /** Ends the subscription with an error, sending {@code current()} first if it was not sent. */
    void fail(DiscoveryException cause) {
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
