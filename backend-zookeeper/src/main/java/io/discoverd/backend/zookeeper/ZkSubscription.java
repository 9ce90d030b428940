package io.discoverd.backend.zookeeper;

import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Instance;
import io.discoverd.backend.Subscription;
import io.discoverd.backend.SubscriptionListener;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscriber's handle and its guarded listener. Listener calls are made under the handle's
 * lock and only while it is open, so {@link #close()} stops delivery at once (no call starts after
 * it returns) and calls are never concurrent. A listener that throws is logged, not propagated.
 *
 * <p>Thread-safe.
 */
final class ZkSubscription implements Subscription {

    private static final Logger LOG = LoggerFactory.getLogger(ZkSubscription.class);

    private final String name;
    private final SubscriptionListener listener;
    private final Consumer<ZkSubscription> onClose;
    private boolean closed;
    private boolean sentCurrent;

    ZkSubscription(String name, SubscriptionListener listener, Consumer<ZkSubscription> onClose) {
        this.name = name;
        this.listener = listener;
        this.onClose = onClose;
    }

    String name() {
        return name;
    }

    synchronized boolean isClosed() {
        return closed;
    }

    synchronized void online(Instance instance) {
        if (!closed) {
            guard(() -> listener.online(instance));
        }
    }

    synchronized void offline(String n, String addr) {
        if (!closed) {
            guard(() -> listener.offline(n, addr));
        }
    }

    synchronized void current() {
        if (!closed && !sentCurrent) {
            sentCurrent = true;
            guard(listener::current);
        }
    }

    /** Ends the subscription with an error, sending {@code current()} first if it was not sent. */
    void fail(DiscoveryException cause) {
        synchronized (this) {
            if (closed) {
                return;
            }
            current();
            guard(() -> listener.failed(cause));
        }
        close();
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
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        onClose.accept(this);
    }
}
