package io.discoverd.client;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Resolves service names to instance addresses for outgoing connections, as the original client's
 * HTTP dialer did: {@code http://api/users} goes to one online instance of {@code api}. Keeps one
 * {@link ServiceSet} per name (opened on first use, closed by {@link #close()}), so a lookup after
 * the first is a local read.
 *
 * <pre>{@code
 * try (ServiceResolver resolver = new ServiceResolver(client, ServiceResolver.Strategy.ROUND_ROBIN)) {
 *     URI target = resolver.resolve(URI.create("http://api/users"));  // http://10.0.0.7:8080/users
 *     httpClient.send(HttpRequest.newBuilder(target).build(), BodyHandlers.ofString());
 * }
 * }</pre>
 *
 * <p>Thread-safe. The first lookup of a name blocks like {@link DiscoverdClient#serviceSet(String)};
 * lookups of other names do not wait for it.
 */
public final class ServiceResolver implements AutoCloseable {

    /** How an instance is chosen among the online ones. */
    public enum Strategy {
        /** Uniformly at random (the original dialer's choice). */
        RANDOM,
        /** In turn, oldest first, per resolver and name. */
        ROUND_ROBIN
    }

    private final DiscoverdClient client;
    private final Strategy strategy;
    private final Random random;
    private final Map<String, CompletableFuture<ServiceSet>> sets = new HashMap<>();
    private final Map<String, AtomicLong> turns = new HashMap<>();
    private boolean closed;

    /** A resolver choosing at random. */
    public ServiceResolver(DiscoverdClient client) {
        this(client, Strategy.RANDOM, new Random());
    }

    /** A resolver with the given strategy. */
    public ServiceResolver(DiscoverdClient client, Strategy strategy) {
        this(client, strategy, new Random());
    }

    /** A resolver with the given strategy and random source (a seeded one makes RANDOM repeatable). */
    public ServiceResolver(DiscoverdClient client, Strategy strategy, Random random) {
        this.client = client;
        this.strategy = strategy;
        this.random = random;
    }

    /**
     * One online instance of {@code name}.
     *
     * @throws DiscoverdException {@code NO_INSTANCES} when none is online (message
     *                            {@code discoverd: no online services found for <name>}), or as
     *                            {@link DiscoverdClient#serviceSet(String)} on first use
     */
    public ServiceInstance pick(String name) throws DiscoverdException {
        CompletableFuture<ServiceSet> pending;
        boolean opener = false;
        AtomicLong turn;
        synchronized (this) {
            if (closed) {
                throw DiscoverdException.of(DiscoverdException.Kind.CLOSED, "discoverd: resolver closed");
            }
            pending = sets.get(name);
            if (pending == null) {
                pending = new CompletableFuture<>();
                sets.put(name, pending);
                opener = true;
            }
            turn = turns.computeIfAbsent(name, k -> new AtomicLong());
        }
        // The set is opened outside the monitor: a slow first lookup of one name must not hold up
        // lookups of names already open. Concurrent first lookups of the same name wait for one open.
        if (opener) {
            open(name, pending);
        }
        ServiceSet set = awaitSet(name, pending);
        List<ServiceInstance> all = set.services();
        if (all.isEmpty()) {
            throw DiscoverdException.of(DiscoverdException.Kind.NO_INSTANCES, "discoverd: no online services found for " + name);
        }
        int i;
        if (strategy == Strategy.ROUND_ROBIN) {
            i = (int) Math.floorMod(turn.getAndIncrement(), (long) all.size());
        } else {
            synchronized (random) {
                i = random.nextInt(all.size());
            }
        }
        return all.get(i);
    }

    /**
     * {@code uri} with its host (a service name) replaced by the address of one online instance; a
     * port in {@code uri} is dropped, the instance's port is used.
     *
     * @throws DiscoverdException as {@link #pick(String)}
     * @throws IllegalArgumentException when {@code uri} has no host
     */
    public URI resolve(URI uri) throws DiscoverdException {
        String host = uri.getHost();
        if (host == null) {
            throw new IllegalArgumentException("URI has no host: " + uri);
        }
        ServiceInstance i = pick(host);
        String authority = i.addr();
        if (uri.getRawUserInfo() != null) {
            authority = uri.getRawUserInfo() + "@" + authority;
        }
        try {
            return new URI(uri.getScheme() + "://" + authority
                    + (uri.getRawPath() == null ? "" : uri.getRawPath())
                    + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery())
                    + (uri.getRawFragment() == null ? "" : "#" + uri.getRawFragment()));
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("cannot rewrite " + uri + " to " + i.addr(), e);
        }
    }

    private void open(String name, CompletableFuture<ServiceSet> pending) {
        ServiceSet set;
        try {
            set = client.serviceSet(name);
        } catch (DiscoverdException | RuntimeException e) {
            synchronized (this) {
                sets.remove(name, pending); // the next lookup tries again
            }
            pending.completeExceptionally(e);
            return;
        }
        boolean keep;
        synchronized (this) {
            keep = !closed;
        }
        if (!keep) {
            set.close();
            pending.completeExceptionally(DiscoverdException.of(DiscoverdException.Kind.CLOSED, "discoverd: resolver closed"));
        } else {
            pending.complete(set);
        }
    }

    private static ServiceSet awaitSet(String name, CompletableFuture<ServiceSet> pending) throws DiscoverdException {
        try {
            return pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw DiscoverdException.of(DiscoverdException.Kind.INTERRUPTED, "discoverd: lookup of " + name + ": interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof DiscoverdException d) {
                throw new DiscoverdException(d.kind(), d.getMessage(), d.serverMessage(), d);
            }
            throw (RuntimeException) e.getCause();
        }
    }

    /** Closes the resolver's sets; a set still being opened is closed when it arrives. Idempotent. */
    @Override
    public void close() {
        List<CompletableFuture<ServiceSet>> all;
        synchronized (this) {
            closed = true;
            all = List.copyOf(sets.values());
            sets.clear();
        }
        for (CompletableFuture<ServiceSet> f : all) {
            f.thenAccept(ServiceSet::close);
        }
    }
}
