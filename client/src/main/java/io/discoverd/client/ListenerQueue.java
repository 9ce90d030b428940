package io.discoverd.client;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Delivers events to one listener, in order, one at a time, on the client's listener threads:
 * never on the connection's read thread, so a slow listener cannot stall the connection or other
 * listeners.
 *
 * <p>Queue policy: a non-coalescing queue holds at most {@code capacity} undelivered events; the
 * event that would exceed it cancels the listener (the queue is dropped, {@link #isActive()} turns
 * {@code false}, a warning is logged), so a stuck listener costs bounded memory and never loses
 * events silently while it still runs. A coalescing queue (leader listeners) keeps only the newest
 * undelivered value and never overflows. Connection-state listeners do not coalesce: a
 * {@code DISCONNECTED} quickly followed by {@code CONNECTED} must reach them both.
 *
 * <p>Thread-safe: {@link #offer} may be called from any thread, and never blocks.
 */
final class ListenerQueue<T> implements ListenerHandle {

    private static final System.Logger LOG = System.getLogger(ListenerQueue.class.getName());

    private final Executor executor;
    private final Consumer<? super T> listener;
    private final int capacity;
    private final boolean coalesce;
    private final String what;
    private final ArrayDeque<T> queue = new ArrayDeque<>();
    private boolean scheduled;
    private volatile boolean active = true;
    private Runnable onClose;

    ListenerQueue(Executor executor, Consumer<? super T> listener, int capacity, boolean coalesce, String what) {
        this.executor = executor;
        this.listener = listener;
        this.capacity = capacity;
        this.coalesce = coalesce;
        this.what = what;
    }

    /** Runs once when the queue is closed for any reason (used to unlink it from its source). */
    synchronized void onClose(Runnable r) {
        this.onClose = r;
    }

    /** Queues one event; drops it when the listener is no longer active. */
    void offer(T event) {
        boolean overflow = false;
        synchronized (this) {
            if (!active) {
                return;
            }
            if (coalesce) {
                queue.clear();
            } else if (queue.size() >= capacity) {
                overflow = true;
            }
            if (!overflow) {
                queue.addLast(event);
                if (!scheduled) {
                    scheduled = true;
                    try {
                        executor.execute(this::drain);
                    } catch (RejectedExecutionException e) {
                        scheduled = false;
                        queue.clear();
                    }
                }
            }
        }
        if (overflow) {
            LOG.log(System.Logger.Level.WARNING, "discoverd client: " + what + " listener fell " + capacity
                    + " events behind and was cancelled");
            close();
        }
    }

    private void drain() {
        while (true) {
            T next;
            synchronized (this) {
                next = queue.pollFirst();
                if (next == null || !active) {
                    scheduled = false;
                    return;
                }
            }
            try {
                listener.accept(next);
            } catch (RuntimeException e) { // an Error (OutOfMemoryError, …) is not ours to swallow
                LOG.log(System.Logger.Level.WARNING, "discoverd client: " + what + " listener threw", e);
            }
        }
    }

    @Override
    public void close() {
        Runnable r;
        synchronized (this) {
            if (!active) {
                return;
            }
            active = false;
            queue.clear();
            r = onClose;
        }
        if (r != null) {
            r.run();
        }
    }

    @Override
    public boolean isActive() {
        return active;
    }
}
