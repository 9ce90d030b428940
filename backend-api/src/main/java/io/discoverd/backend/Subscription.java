package io.discoverd.backend;

/** A handle on one subscription. Thread-safe; closing twice is harmless. */
public interface Subscription extends AutoCloseable {

    /** Stops delivery at once: no listener call starts after this returns. Never blocks on the store. */
    @Override
    void close();
}
