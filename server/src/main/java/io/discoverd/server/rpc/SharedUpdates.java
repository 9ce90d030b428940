package io.discoverd.server.rpc;

import io.discoverd.backend.Instance;
import io.discoverd.protocol.PreparedUpdate;
import io.discoverd.protocol.ServiceUpdate;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Turns the listener calls of one change into ONE {@link PreparedUpdate} shared by all its
 * subscribers, so that the change is converted, and its body encoded, once per codec rather than
 * once per subscriber (ARCHITECTURE.md, "Threading").
 *
 * <p>Both backends call every subscriber's listener with the same {@link Instance} object for one
 * online change, and with the same name and address strings for an offline one. This remembers
 * the last prepared updates by the identity of what they were made from, in a few slots chosen by
 * identity hash. Identity is only an optimisation: a miss (a backend that does not share, or a
 * slot taken meanwhile by a change on another thread) prepares a new, equal update, which is
 * correct, only not shared. A hit needs no allocation. Holds at most {@value #SLOTS} updates.
 *
 * <p>Thread-safe and lock-free: listeners call it from backend threads.
 */
final class SharedUpdates {

    /** More than the backend threads that may fan out changes at the same time; a power of two. */
    static final int SLOTS = 32;

    /** A prepared update and what it was made from: an {@link Instance}, or an offline name and addr. */
    private record Slot(Object source, String addr, PreparedUpdate prepared) {
    }

    private final AtomicReferenceArray<Slot> slots = new AtomicReferenceArray<>(SLOTS);

    /** The online update of {@code instance}, shared with the other subscribers of the same change. */
    PreparedUpdate online(Instance instance) {
        int i = System.identityHashCode(instance) & (SLOTS - 1);
        Slot s = slots.get(i);
        if (s != null && s.source == instance) {
            return s.prepared;
        }
        PreparedUpdate p = new PreparedUpdate(Agent.toUpdate(instance));
        slots.set(i, new Slot(instance, null, p));
        return p;
    }

    /** The offline update of {@code addr}, shared with the other subscribers of the same change. */
    PreparedUpdate offline(String name, String addr) {
        int i = (System.identityHashCode(name) * 31 + System.identityHashCode(addr)) & (SLOTS - 1);
        Slot s = slots.get(i);
        if (s != null && s.source == name && s.addr == addr) {
            return s.prepared;
        }
        PreparedUpdate p = new PreparedUpdate(ServiceUpdate.offline(name, addr));
        slots.set(i, new Slot(name, addr, p));
        return p;
    }
}
