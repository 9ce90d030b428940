package io.discoverd.backend.etcd;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.contract.RecordingListener;
import io.discoverd.backend.contract.RecordingListener.Event;
import io.discoverd.backend.contract.RecordingListener.Kind;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.LoggerFactory;

/** Small helpers shared by the etcd backend's own tests (not the contract suite). */
final class EtcdTests {

    static final Duration TIMEOUT = Duration.ofSeconds(20);

    private EtcdTests() {
    }

    /** The stage's value, failing the test after {@link #TIMEOUT}. */
    static <T> T await(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The failure a stage completes with (unwrapped), failing the test if it succeeds. */
    static Throwable failure(CompletionStage<?> stage) throws Exception {
        try {
            Object v = stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return fail("expected a failure, got " + v);
        } catch (ExecutionException e) {
            return DiscoveryException.rootCause(e);
        }
    }

    /** Polls {@code condition} (every 20 ms: no event to wait on) until it holds, or fails. */
    static void waitFor(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out after " + timeout.toMillis() + " ms waiting for " + what);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for " + what);
            }
        }
    }

    /** A plain jetcd client for the test's own reads (revision, leader, compaction). */
    static Client jetcd(String endpoints) {
        return Client.builder().endpoints(endpoints.split(",")).build();
    }

    /** The store's current revision (the header revision of a read). */
    static long revision(Client c) throws Exception {
        return c.getKVClient().get(ByteSequence.from("/", StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS)
                .getHeader().getRevision();
    }

    /** Live calls per address, as "online(...)"/"offline(...)" shapes, for exact comparisons. */
    static Map<String, List<String>> liveByAddr(RecordingListener l) {
        Map<String, List<String>> out = new TreeMap<>();
        for (Event e : l.live()) {
            out.computeIfAbsent(String.valueOf(e.addr()), k -> new java.util.ArrayList<>()).add(e.shape());
        }
        return out;
    }

    /** Number of live calls of {@code kind} for {@code addr}. */
    static long count(RecordingListener l, Kind kind, String addr) {
        return l.live().stream().filter(e -> e.kind() == kind && addr.equals(e.addr())).count();
    }

    /** Captures what a logger logs (logback), for asserting that a warning did or did not happen. */
    static ListAppender<ILoggingEvent> capture(Class<?> logger) {
        Logger l = (Logger) LoggerFactory.getLogger(logger);
        ListAppender<ILoggingEvent> a = new ListAppender<>();
        a.start();
        l.addAppender(a);
        return a;
    }

    static void release(Class<?> logger, ListAppender<ILoggingEvent> a) {
        ((Logger) LoggerFactory.getLogger(logger)).detachAppender(a);
    }

    /** Messages captured so far containing {@code text}. */
    static List<String> logged(ListAppender<ILoggingEvent> a, String text) {
        synchronized (a.list) {
            return a.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains(text)).toList();
        }
    }
}
