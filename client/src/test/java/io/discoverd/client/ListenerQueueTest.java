package io.discoverd.client;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class ListenerQueueTest {

    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    @Test
    void deliversInOrderOneAtATime() throws Exception {
        List<Integer> got = new CopyOnWriteArrayList<>();
        AtomicInteger running = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1000);
        ListenerQueue<Integer> q = new ListenerQueue<>(pool, i -> {
            assertEquals(1, running.incrementAndGet());
            got.add(i);
            running.decrementAndGet();
            done.countDown();
        }, 10_000, false, "test");
        for (int i = 0; i < 1000; i++) {
            q.offer(i);
        }
        assertTrue(done.await(5, TimeUnit.SECONDS));
        for (int i = 0; i < 1000; i++) {
            assertEquals(i, got.get(i));
        }
    }

    @Test
    void overflowCancelsTheListener() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger closed = new AtomicInteger();
        ListenerQueue<Integer> q = new ListenerQueue<>(pool, i -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, 2, false, "test");
        q.onClose(closed::incrementAndGet);
        for (int i = 0; i < 10; i++) {
            q.offer(i); // never blocks
        }
        assertFalse(q.isActive());
        assertEquals(1, closed.get());
        release.countDown();
    }

    @Test
    void coalescingKeepsTheNewest() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> got = new CopyOnWriteArrayList<>();
        ListenerQueue<Integer> q = new ListenerQueue<>(pool, i -> {
            got.add(i);
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, 1, true, "test");
        q.offer(0);
        DiscoverdClientTest.waitFor(() -> got.size() == 1);
        for (int i = 1; i <= 100; i++) {
            q.offer(i);
        }
        assertTrue(q.isActive());
        release.countDown();
        DiscoverdClientTest.waitFor(() -> got.size() == 2);
        assertEquals(List.of(0, 100), got);
    }

    @Test
    void throwingListenerKeepsReceiving() throws Exception {
        CountDownLatch two = new CountDownLatch(2);
        ListenerQueue<Integer> q = new ListenerQueue<>(pool, i -> {
            two.countDown();
            throw new IllegalStateException("listener bug");
        }, 10, false, "test");
        q.offer(1);
        q.offer(2);
        assertTrue(two.await(5, TimeUnit.SECONDS));
        assertTrue(q.isActive());
    }
}
