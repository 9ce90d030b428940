package io.discoverd.server.rpc;

import io.netty.channel.EventLoop;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streams of one event loop's connections that have updates to handle, handled by one task.
 *
 * <p>Why: a change fanned out to 10,000 subscribers used to queue 10,000 tasks from the backend's
 * thread, one per stream, and each task queued on a sleeping event loop wakes it with a system
 * call. Here a stream with updates joins its loop's mailbox, and only the first stream that finds
 * the mailbox idle queues a task (and may wake the loop); that task handles the streams that joined,
 * {@value #BUDGET} at a time between the loop's socket work. Per stream, updates keep their order (the
 * stream's own queue); a stream joins at most once until it has been handled.
 *
 * <p>Thread-safe: {@link #post} from any thread; the task runs on the event loop.
 */
final class LoopMailbox {

    private static final Logger LOG = LoggerFactory.getLogger(LoopMailbox.class);

    /** Handlers run per task before the loop gets back to its sockets. */
    static final int BUDGET = 1024;

    private final EventLoop loop;
    private final Queue<Runnable> ready = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Runnable drainAll = this::drainAll;

    LoopMailbox(EventLoop loop) {
        this.loop = loop;
    }

    /**
     * Queues {@code handler} (a stream's drain) to run on the loop, behind the handlers posted before
     * it. Any thread. After the loop has shut down (the daemon is closing) the handler never runs.
     */
    void post(Runnable handler) {
        ready.add(handler);
        if (scheduled.compareAndSet(false, true)) {
            schedule();
        }
    }

    private void schedule() {
        try {
            loop.execute(drainAll);
        } catch (RejectedExecutionException e) {
            scheduled.set(false); // the loop is gone, and its connections with it
            LOG.debug("event loop shut down; dropping stream updates");
        }
    }

    /**
     * On the loop: runs up to {@value #BUDGET} posted handlers, then hands the loop back to its other
     * work (socket reads and writes) with a new task if more are waiting. A handler that throws does not
     * stop the others, and the mailbox is never left scheduled without a task.
     */
    private void drainAll() {
        int budget = BUDGET;
        try {
            Runnable handler;
            while (budget-- > 0 && (handler = ready.poll()) != null) {
                try {
                    handler.run();
                } catch (RuntimeException e) {
                    LOG.warn("handling a stream's updates failed", e);
                }
            }
        } finally {
            if (!ready.isEmpty()) {
                schedule(); // still scheduled: the next task takes over
            } else {
                scheduled.set(false);
                // A handler posted after the emptiness check and before the reset found it scheduled.
                if (!ready.isEmpty() && scheduled.compareAndSet(false, true)) {
                    schedule();
                }
            }
        }
    }
}
