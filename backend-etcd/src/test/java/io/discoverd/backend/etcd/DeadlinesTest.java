package io.discoverd.backend.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.util.HashedWheelTimer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DeadlinesTest {

    /** A wheel of this test's own: the shared one also holds the deadlines of other tests' backends. */
    private final HashedWheelTimer wheel = new HashedWheelTimer(10, TimeUnit.MILLISECONDS);
    private final Deadlines deadlines = new Deadlines(wheel);

    @AfterEach
    void stopWheel() {
        wheel.stop();
    }

    @Test
    void aCallWithoutAnswerFailsWithATimeoutAfterItsLimit() {
        CompletableFuture<String> call = new CompletableFuture<>();
        long t0 = System.nanoTime();
        assertSame(call, deadlines.within(call, 100));
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(5, TimeUnit.SECONDS));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertInstanceOf(TimeoutException.class, e.getCause());
        assertTrue(ms >= 100, "failed after " + ms + " ms, before its limit");
    }

    @Test
    void anAnswerInTimeDropsItsDeadline() throws Exception {
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            calls.add(deadlines.within(new CompletableFuture<>(), 60_000));
        }
        assertEquals(1_000, deadlines.pending());
        calls.forEach(c -> c.complete("answer"));
        // Dropped at the next ticks, not kept until their 60 s are up.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (deadlines.pending() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(0, deadlines.pending());
        for (CompletableFuture<String> c : calls) {
            assertEquals("answer", c.get());
        }
    }

    @Test
    void completeWithinGivesTheValueWhenTheFutureIsLate() throws Exception {
        CompletableFuture<String> late = deadlines.completeWithin(new CompletableFuture<>(), null, 50);
        assertNull(late.get(5, TimeUnit.SECONDS));
        CompletableFuture<String> early = deadlines.completeWithin(new CompletableFuture<>(), "fallback", 5_000);
        early.complete("own");
        assertEquals("own", early.get());
    }

    @Test
    void aDoneFutureIsReturnedAsItIsWithoutADeadline() {
        CompletableFuture<String> done = CompletableFuture.completedFuture("x");
        assertSame(done, deadlines.within(done, 1));
        assertEquals(0, deadlines.pending());
        assertEquals("x", done.join());
    }
}
