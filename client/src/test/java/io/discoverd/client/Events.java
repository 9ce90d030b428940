package io.discoverd.client;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Records listener events for assertions. */
final class Events<T> implements Consumer<T> {

    private final LinkedBlockingQueue<T> queue = new LinkedBlockingQueue<>();

    @Override
    public void accept(T t) {
        queue.add(t);
    }

    T next() throws InterruptedException {
        T t = queue.poll(5, TimeUnit.SECONDS);
        assertNotNull(t, "no event within 5 s");
        return t;
    }

    List<T> next(int n) throws InterruptedException {
        List<T> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(next());
        }
        return out;
    }

    /** The next event within {@code millis}, or {@code null}. */
    T poll(long millis) throws InterruptedException {
        return queue.poll(millis, TimeUnit.MILLISECONDS);
    }

    void none(long millis) throws InterruptedException {
        T t = queue.poll(millis, TimeUnit.MILLISECONDS);
        assertNull(t, "unexpected event");
    }
}
