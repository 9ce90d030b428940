package io.discoverd.server.rpc;

import io.netty.channel.EventLoop;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streams of one event loop's connections that have updates to handle, handled by one task.
 *
 * <p>Why: a change fanned out to 10,000 subscribers used to queue 10,000 tasks from the backend's
 * thread, one per stream, and each task queued on a sleeping event loop wakes it with a system
 * call. Here a stream with updates joins its loop's mailbox, and only the first stream that finds
 * the mailbox idle queues a task (and may wake the loop); that task handles every stream that
 * joined until the mailbox is empty. Per stream, updates keep their order (the stream's own queue);
 * a stream joins at most once until it has been handled.
 *
 * <p>Thread-safe: {@link #post} from any thread; the task runs on the event loop.
 */
final class LoopMailbox {

    private static final Logger LOG = LoggerFactory.getLogger(LoopMailbox.class);

    private final EventLoop loop;
    private final Queue<Runnable> ready = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Runnable drainAll = this::drainAll;

    LoopMailbox(EventLoop loop) {
        this.loop = loop;
    }

    /**
     * Queues {@code handler} (a stream's drain) to run on the loop, behind the handlers posted before
     * it. Any thread.
     */
    void post(Runnable handler) {
        ready.add(handler);
        if (scheduled.compareAndSet(false, true)) {
            loop.execute(drainAll);
        }
    }

    /** On the loop: runs the posted handlers until none is left; a failing one does not stop the others. */
    private void drainAll() {
        while (true) {
            Runnable handler;
            while ((handler = ready.poll()) != null) {
                try {
                    handler.run();
                } catch (RuntimeException e) {
                    LOG.warn("handling a stream's updates failed", e);
                }
            }
            scheduled.set(false);
            // A handler posted after the last poll and before the reset found the task still scheduled.
            if (ready.isEmpty() || !scheduled.compareAndSet(false, true)) {
                return;
            }
        }
    }
}
