package io.discoverd.backend.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class DeadlinesTest {

    @Test
    void aCallWithoutAnswerFailsWithATimeoutAfterItsLimit() {
        CompletableFuture<String> call = new CompletableFuture<>();
        long t0 = System.nanoTime();
        assertSame(call, Deadlines.within(call, 100));
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(5, TimeUnit.SECONDS));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertInstanceOf(TimeoutException.class, e.getCause());
        assertTrue(ms >= 100, "failed after " + ms + " ms, before its limit");
    }

    @Test
    void anAnswerInTimeDropsItsDeadline() throws Exception {
        long before = Deadlines.pending();
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            calls.add(Deadlines.within(new CompletableFuture<>(), 60_000));
        }
        assertTrue(Deadlines.pending() >= before + 1_000, "armed: " + Deadlines.pending());
        calls.forEach(c -> c.complete("answer"));
        // Dropped at the next ticks, not kept for their 60 s as the JDK's delay queue keeps a
        // cancelled orTimeout (the wake per call that Deadlines exists to avoid).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (Deadlines.pending() > before && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(before, Deadlines.pending());
        for (CompletableFuture<String> c : calls) {
            assertEquals("answer", c.get());
        }
    }

    @Test
    void completeWithinGivesTheValueWhenTheFutureIsLate() throws Exception {
        CompletableFuture<String> late = Deadlines.completeWithin(new CompletableFuture<>(), null, 50);
        assertNull(late.get(5, TimeUnit.SECONDS));
        CompletableFuture<String> early = Deadlines.completeWithin(new CompletableFuture<>(), "fallback", 5_000);
        early.complete("own");
        assertEquals("own", early.get());
    }

    @Test
    void aDoneFutureIsReturnedAsItIs() {
        CompletableFuture<String> done = CompletableFuture.completedFuture("x");
        assertSame(done, Deadlines.within(done, 1));
        assertEquals("x", done.join());
    }
}
