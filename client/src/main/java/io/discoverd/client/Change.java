package io.discoverd.client;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One change of a set's content: the instance before ({@code null} if it was absent) and after
 * ({@code null} if it is gone). Also holds the pure rules the sets apply: reconciliation after a
 * resubscribe, filtering, the leader. Immutable.
 */
record Change(ServiceInstance before, ServiceInstance after) {

    /**
     * The event a view with {@code filter} delivers for this change, or {@code null} for none: the
     * new state when it is online and matches; otherwise an offline event when the instance matched
     * before (it went offline, or its attributes no longer match). Unlike the original client, an
     * instance that leaves a filtered view is always reported.
     */
    ServiceInstance eventFor(Map<String, String> filter) {
        if (after != null && after.matches(filter)) {
            return after;
        }
        if (before != null && before.matches(filter)) {
            return before.asOffline();
        }
        return null;
    }

    /**
     * What turns {@code held} into {@code fresh} (both keyed by address): offline for instances that
     * vanished, online for new ones and for ones whose attributes or {@code created} changed, and
     * nothing for unchanged ones. Offline changes first, then online ones, each oldest first.
     */
    static List<Change> reconcile(Map<String, ServiceInstance> held, Map<String, ServiceInstance> fresh) {
        List<ServiceInstance> gone = new ArrayList<>();
        List<Change> online = new ArrayList<>();
        for (ServiceInstance old : held.values()) {
            if (!fresh.containsKey(old.addr())) {
                gone.add(old);
            }
        }
        for (ServiceInstance now : fresh.values()) {
            ServiceInstance old = held.get(now.addr());
            if (!now.sameState(old)) {
                online.add(new Change(old, now));
            }
        }
        gone.sort(ServiceInstance.BY_CREATED);
        online.sort((a, b) -> ServiceInstance.BY_CREATED.compare(a.after(), b.after()));
        List<Change> out = new ArrayList<>(gone.size() + online.size());
        for (ServiceInstance g : gone) {
            out.add(new Change(g, null));
        }
        out.addAll(online);
        return out;
    }

    /** The leader among {@code instances} matching {@code filter}: the smallest {@code created} (PROTOCOL.md §6.2). */
    static Optional<ServiceInstance> leader(Collection<ServiceInstance> instances, Map<String, String> filter) {
        ServiceInstance best = null;
        for (ServiceInstance i : instances) {
            if (i.matches(filter) && (best == null || ServiceInstance.BY_CREATED.compare(i, best) < 0)) {
                best = i;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Whether two leader values name the same instance (address and {@code created}). */
    static boolean sameLeader(Optional<ServiceInstance> a, Optional<ServiceInstance> b) {
        if (a.isEmpty() || b.isEmpty()) {
            return a.isEmpty() == b.isEmpty();
        }
        return a.get().addr().equals(b.get().addr()) && a.get().created() == b.get().created();
    }
}
