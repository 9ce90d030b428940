package io.discoverd.backend.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Instance;
import io.discoverd.backend.SubscriptionListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A {@link SubscriptionListener} that records every call, checks the listener rules of the
 * contract as it goes (never concurrent, exactly one {@code current()}, nothing after
 * {@code failed}), and lets a test wait for conditions with a deadline instead of sleeping.
 *
 * <p>Thread-safe: the backend calls it on its threads while the test reads it.
 */
public final class RecordingListener implements SubscriptionListener {

    /** What kind of call an {@link Event} records. */
    public enum Kind { ONLINE, OFFLINE, CURRENT, FAILED }

    /**
     * One recorded listener call.
     *
     * @param kind    the call
     * @param name    service name ({@code null} for CURRENT and FAILED)
     * @param addr    address ({@code null} for CURRENT and FAILED)
     * @param attrs   attributes of an ONLINE call ({@code null} for nil)
     * @param created {@code created} of an ONLINE call, 0 otherwise
     * @param atNanos {@link System#nanoTime()} when the call arrived
     */
    public record Event(Kind kind, String name, String addr, Map<String, String> attrs, long created, long atNanos) {
        @Override
        public String toString() {
            return switch (kind) {
                case ONLINE -> "online(" + addr + ", " + attrs + ", " + created + ")";
                case OFFLINE -> "offline(" + addr + ")";
                default -> kind.toString();
            };
        }

        /** The event without its arrival time, for comparing sequences between subscribers. */
        public String shape() {
            return toString();
        }
    }

    private final List<Event> events = new ArrayList<>();
    private final AtomicInteger inCall = new AtomicInteger();
    private final List<String> violations = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void online(Instance instance) {
        record(new Event(Kind.ONLINE, instance.name(), instance.addr(), instance.attrs(), instance.created(), System.nanoTime()));
    }

    @Override
    public void offline(String name, String addr) {
        record(new Event(Kind.OFFLINE, name, addr, null, 0, System.nanoTime()));
    }

    @Override
    public void current() {
        record(new Event(Kind.CURRENT, null, null, null, 0, System.nanoTime()));
    }

    @Override
    public void failed(DiscoveryException cause) {
        record(new Event(Kind.FAILED, null, cause.getMessage(), null, 0, System.nanoTime()));
    }

    private void record(Event e) {
        if (inCall.incrementAndGet() != 1) {
            violations.add("concurrent listener call: " + e);
        }
        try {
            // Widen the window in which a concurrent call would be caught.
            Thread.onSpinWait();
            synchronized (this) {
                boolean hadCurrent = events.stream().anyMatch(x -> x.kind() == Kind.CURRENT);
                boolean hadFailed = events.stream().anyMatch(x -> x.kind() == Kind.FAILED);
                if (hadFailed) {
                    violations.add("call after failed(): " + e);
                }
                if (e.kind() == Kind.CURRENT && hadCurrent) {
                    violations.add("second current()");
                }
                if (e.kind() == Kind.FAILED && !hadCurrent) {
                    violations.add("failed() before current()");
                }
                events.add(e);
                notifyAll();
            }
        } finally {
            inCall.decrementAndGet();
        }
    }

    /** All calls so far, in arrival order. */
    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** The calls before {@code current()} (all calls if it has not come yet). */
    public synchronized List<Event> snapshot() {
        List<Event> out = new ArrayList<>();
        for (Event e : events) {
            if (e.kind() == Kind.CURRENT) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    /** The calls after {@code current()} (empty if it has not come yet). */
    public synchronized List<Event> live() {
        int i = indexOfCurrent();
        return i < 0 ? List.of() : List.copyOf(events.subList(i + 1, events.size()));
    }

    /** The addresses online in the snapshot, with their events. */
    public synchronized Map<String, Event> snapshotByAddr() {
        Map<String, Event> out = new LinkedHashMap<>();
        for (Event e : snapshot()) {
            if (e.kind() == Kind.ONLINE && out.put(e.addr(), e) != null) {
                fail("instance twice in the snapshot: " + e + " in " + events);
            }
        }
        return out;
    }

    private int indexOfCurrent() {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).kind() == Kind.CURRENT) {
                return i;
            }
        }
        return -1;
    }

    /** Fails the test if the backend broke a listener rule so far. */
    public void assertNoViolations() {
        synchronized (violations) {
            assertEquals(List.of(), violations, "listener rule violations");
        }
    }

    /**
     * Waits until the recorded calls satisfy {@code condition}.
     *
     * @param timeout the longest wait
     * @return the calls at the moment the condition held
     * @throws AssertionError when the deadline passes first, listing the calls
     */
    public synchronized List<Event> awaitUntil(Duration timeout, String what, Predicate<List<Event>> condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.test(events)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                fail("timed out after " + timeout.toMillis() + " ms waiting for " + what + "; got " + events);
            }
            try {
                wait(Math.max(1, left / 1_000_000), 0);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for " + what);
            }
        }
        assertNoViolations();
        return List.copyOf(events);
    }

    /** Waits for {@code current()} and returns the snapshot. */
    public List<Event> awaitCurrent(Duration timeout) {
        awaitUntil(timeout, "current()", evs -> evs.stream().anyMatch(e -> e.kind() == Kind.CURRENT));
        return snapshot();
    }

    /** Waits for a live call matching {@code p} and returns it (the first one). */
    public Event awaitLive(Duration timeout, String what, Predicate<Event> p) {
        awaitUntil(timeout, what, evs -> {
            int i = indexOfCurrent();
            return i >= 0 && evs.subList(i + 1, evs.size()).stream().anyMatch(p);
        });
        return live().stream().filter(p).findFirst().orElseThrow();
    }

    /** Waits for a live online call for {@code addr}. */
    public Event awaitOnline(Duration timeout, String addr) {
        return awaitLive(timeout, "online(" + addr + ")", e -> e.kind() == Kind.ONLINE && e.addr().equals(addr));
    }

    /** Waits for a live offline call for {@code addr}. */
    public Event awaitOffline(Duration timeout, String addr) {
        return awaitLive(timeout, "offline(" + addr + ")", e -> e.kind() == Kind.OFFLINE && e.addr().equals(addr));
    }

    /** Whether a live call for {@code addr} has arrived. */
    public boolean sawLive(String addr) {
        return live().stream().anyMatch(e -> addr.equals(e.addr()));
    }

    /** Asserts that nothing was recorded after {@code current()} except calls about {@code allowedAddrs}. */
    public void assertLiveOnlyAbout(String... allowedAddrs) {
        List<String> allowed = List.of(allowedAddrs);
        for (Event e : live()) {
            assertFalse(!allowed.contains(e.addr()), "unexpected live call " + e + " in " + events());
        }
    }
}
