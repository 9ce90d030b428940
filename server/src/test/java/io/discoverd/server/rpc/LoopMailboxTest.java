package io.discoverd.server.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link LoopMailbox}: a burst of posts is one task on the loop, run in order, on the loop's thread. */
class LoopMailboxTest {

    private final DefaultEventLoop loop = new DefaultEventLoop();

    @AfterEach
    void stop() throws Exception {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
    }

    /** Blocks the loop until the returned latch is counted down. */
    private CountDownLatch blockLoop() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        loop.execute(() -> {
            running.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(running.await(5, TimeUnit.SECONDS));
        return release;
    }

    @Test
    void aBurstOfPosts_queuesOneTask_andRunsEveryHandlerInOrderOnTheLoop() throws Exception {
        LoopMailbox mailbox = new LoopMailbox(loop);
        CountDownLatch release = blockLoop();
        int n = 10_000;
        List<Integer> ran = new ArrayList<>();
        List<Boolean> onLoop = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            int k = i;
            mailbox.post(() -> {
                ran.add(k);
                onLoop.add(loop.inEventLoop());
                done.countDown();
            });
        }
        // Without the mailbox: one task per post (10,000 on the loop's queue).
        assertEquals(1, loop.pendingTasks(), "tasks queued on the loop for " + n + " posts");
        release.countDown();
        assertTrue(done.await(5, TimeUnit.SECONDS));
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            expected.add(i);
        }
        assertEquals(expected, ran);
        assertTrue(onLoop.stream().allMatch(b -> b));
    }

    @Test
    void aFailingHandler_doesNotStopTheOthers_andLaterPostsStillRun() throws Exception {
        LoopMailbox mailbox = new LoopMailbox(loop);
        CountDownLatch release = blockLoop();
        CountDownLatch first = new CountDownLatch(2);
        mailbox.post(first::countDown);
        mailbox.post(() -> {
            throw new IllegalStateException("a broken stream");
        });
        mailbox.post(first::countDown);
        release.countDown();
        assertTrue(first.await(5, TimeUnit.SECONDS));

        CountDownLatch later = new CountDownLatch(1);
        mailbox.post(later::countDown);
        assertTrue(later.await(5, TimeUnit.SECONDS), "the mailbox schedules again after a drain");
    }

    @Test
    void postsFromManyThreads_allRun() throws Exception {
        LoopMailbox mailbox = new LoopMailbox(loop);
        int threads = 4;
        int each = 5_000;
        CountDownLatch done = new CountDownLatch(threads * each);
        List<Thread> posters = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    mailbox.post(done::countDown);
                }
            });
            posters.add(th);
            th.start();
        }
        for (Thread th : posters) {
            th.join();
        }
        assertTrue(done.await(10, TimeUnit.SECONDS), done.getCount() + " handlers never ran");
    }
}
