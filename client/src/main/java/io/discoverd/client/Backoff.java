package io.discoverd.client;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Delays between reconnect attempts and between heartbeats. Pure functions; thread-safe.
 */
final class Backoff {

    private Backoff() {
    }

    /**
     * The delay before reconnect attempt {@code attempt} (0 for the first retry): exponential from
     * {@code initialMillis}, capped at {@code maxMillis}, with "equal jitter" so that clients of a
     * restarted daemon do not all return at once: a uniform value in {@code [d/2, d]}.
     */
    static long reconnectDelayMillis(int attempt, long initialMillis, long maxMillis) {
        long d = initialMillis;
        for (int i = 0; i < attempt && d < maxMillis; i++) {
            d *= 2;
        }
        d = Math.min(d, maxMillis);
        long half = d / 2;
        return half + ThreadLocalRandom.current().nextLong(d - half + 1);
    }

    /**
     * The delay before the next heartbeat: {@code intervalMillis} minus up to 10 % of jitter, so that
     * heartbeats never come later than the interval (the daemon's TTL is twice the default interval,
     * PROTOCOL.md §5.6) and registrations made together spread out.
     */
    static long heartbeatDelayMillis(long intervalMillis) {
        long jitter = intervalMillis / 10;
        return intervalMillis - (jitter <= 0 ? 0 : ThreadLocalRandom.current().nextLong(jitter + 1));
    }
}
