package io.discoverd.backend;

import java.util.Objects;

/**
 * The result of {@link DiscoveryBackend#register}: the stored instance and what the call did, so
 * the daemon can log new and changed registrations at INFO and heartbeats at DEBUG in one place.
 *
 * @param instance the instance as stored, with its {@code created}
 * @param outcome  what the call changed
 */
public record Registration(Instance instance, Outcome outcome) {

    /** What a Register did (PROTOCOL.md §5.3). */
    public enum Outcome {
        /** The instance was absent and is now created, with a new {@code created}. */
        CREATED,
        /** The instance was present and its attributes changed; {@code created} is unchanged. */
        UPDATED,
        /** The instance was present with the same attributes: only its deadline moved (a heartbeat). */
        REFRESHED
    }

    public Registration {
        Objects.requireNonNull(instance, "instance");
        Objects.requireNonNull(outcome, "outcome");
    }
}
