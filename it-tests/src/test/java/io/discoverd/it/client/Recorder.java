package io.discoverd.it.client;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A listener that records what it is given, for a test thread to take in order with a timeout:
 * the listener runs on the client's listener threads, the test awaits on its own.
 *
 * <p>Exactness ("exactly one update") is shown with a fence rather than a quiet period: the test
 * makes one more change after the ones it checks and takes events until the fence's; since a
 * stream delivers in order, everything before the fence has arrived by then.
 */
final class Recorder<T> implements Consumer<T> {

    /** How long one expected event may take; far above the milliseconds it normally takes. */
    static final Duration WAIT = Duration.ofSeconds(10);

    private final String what;
    private final LinkedBlockingQueue<T> pending = new LinkedBlockingQueue<>();
    private final List<T> all = new ArrayList<>();

    Recorder(String what) {
        this.what = what;
    }

    @Override
    public void accept(T event) {
        synchronized (all) {
            all.add(event);
        }
        pending.add(event);
    }

    /** Everything received so far, in order. */
    List<T> all() {
        synchronized (all) {
            return List.copyOf(all);
        }
    }

    /** The next event, waiting up to {@link #WAIT}; fails when none comes. */
    T next() throws InterruptedException {
        return next(WAIT);
    }

    /** The next event, waiting up to {@code wait}; fails when none comes. */
    T next(Duration wait) throws InterruptedException {
        T t = pending.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        if (t == null) {
            fail(what + ": no event within " + wait + "; received so far: " + all());
        }
        return t;
    }

    /** The next {@code n} events. */
    List<T> next(int n) throws InterruptedException {
        List<T> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(next());
        }
        return out;
    }

    /** The events before the first one matching {@code fence} (which is consumed, not returned). */
    List<T> until(Predicate<T> fence) throws InterruptedException {
        List<T> out = new ArrayList<>();
        while (true) {
            T t = next();
            if (fence.test(t)) {
                return out;
            }
            out.add(t);
        }
    }

    /** Nothing received that has not been taken. */
    boolean isDrained() {
        return pending.isEmpty();
    }
}
