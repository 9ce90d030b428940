package io.discoverd.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/** A {@link ServiceSet}: the whole set (empty filter) or a filtered view of a {@link SetCore}. Thread-safe. */
final class SetView implements ServiceSet {

    private final SetCore core;
    private final Map<String, String> filter;
    private final boolean root;
    private final DiscoverdClient client;
    private final List<ListenerHandle> handles = new ArrayList<>();
    private boolean closed;

    SetView(DiscoverdClient client, SetCore core, Map<String, String> filter, boolean root) {
        this.client = client;
        this.core = core;
        this.filter = filter;
        this.root = root;
    }

    SetCore core() {
        return core;
    }

    @Override
    public String name() {
        return core.name;
    }

    @Override
    public Optional<String> selfAddr() {
        return Optional.ofNullable(core.selfAddr);
    }

    @Override
    public List<ServiceInstance> services() {
        return core.services(filter);
    }

    @Override
    public List<String> addrs() {
        return services().stream().map(ServiceInstance::addr).toList();
    }

    @Override
    public List<ServiceInstance> select(Map<String, String> attrs) {
        return services().stream().filter(i -> i.matches(attrs)).toList();
    }

    @Override
    public ServiceSet filter(Map<String, String> attrs) {
        Map<String, String> combined = new LinkedHashMap<>(filter);
        if (attrs != null) {
            combined.putAll(attrs);
        }
        return new SetView(client, core, Collections.unmodifiableMap(combined), false);
    }

    @Override
    public Optional<ServiceInstance> leader() {
        return core.leader(filter);
    }

    @Override
    public ListenerHandle watch(boolean bringCurrent, Consumer<ServiceInstance> listener) {
        ListenerQueue<ServiceInstance> q = client.newQueue(listener, false, "watch(" + core.name + ")");
        return track(core.watch(filter, bringCurrent, q));
    }

    @Override
    public ListenerHandle watchLeader(Consumer<Optional<ServiceInstance>> listener) {
        ListenerQueue<Optional<ServiceInstance>> q = client.newQueue(listener, true, "watchLeader(" + core.name + ")");
        return track(core.watchLeader(filter, q));
    }

    private ListenerHandle track(ListenerHandle h) {
        boolean close;
        synchronized (handles) {
            close = closed;
            if (!close) {
                handles.removeIf(x -> !x.isActive());
                handles.add(h);
            }
        }
        if (close) {
            h.close();
        }
        return h;
    }

    @Override
    public void close() {
        List<ListenerHandle> hs;
        synchronized (handles) {
            closed = true;
            hs = new ArrayList<>(handles);
            handles.clear();
        }
        hs.forEach(ListenerHandle::close);
        if (root) {
            core.close();
        }
    }

    @Override
    public String toString() {
        return "ServiceSet[" + core.name + (filter.isEmpty() ? "" : " " + filter) + "]";
    }
}
