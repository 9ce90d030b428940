package io.discoverd.server.rpc;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Instance;
import io.discoverd.backend.Registration;
import io.discoverd.backend.Subscription;
import io.discoverd.backend.SubscriptionListener;
import io.discoverd.protocol.Args;
import io.discoverd.protocol.PreparedUpdate;
import io.discoverd.protocol.ServiceUpdate;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code Agent} service, codec-neutral: checks and expands a request's {@link Args}, calls the
 * backend, and logs what changed (PROTOCOL.md §5). Knows nothing of connections; a
 * {@link Session} turns its results into frames.
 *
 * <p>Thread-safe. Every method returns at once; the stages complete on backend threads. Per-call
 * failures complete the stage exceptionally with a {@link DiscoveryException} whose message is the
 * wire error text.
 */
public final class Agent {

    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    /** PROTOCOL.md §5.2 step 1. */
    public static final String ADDR_MUST_BE_SET = "discoverd: Addr must be set";
    /** PROTOCOL.md §5.2 step 3. */
    public static final String ADDR_NEEDS_HOST = "discoverd: Addr must have address or EXTERNAL_IP must be set";

    private final DiscoveryBackend backend;
    private final String externalIp;
    private final int maxAttrsBytes;
    private final SharedUpdates shared = new SharedUpdates();
    /** One mailbox per event loop of this daemon's connections ({@link LoopMailbox}). */
    private final Map<EventLoop, LoopMailbox> mailboxes = new ConcurrentHashMap<>();

    /**
     * @param backend       the store
     * @param externalIp    the prefix of port-only addresses; {@code ""} for none
     * @param maxAttrsBytes the largest {@code Attrs} Register accepts, in UTF-8 bytes of keys and values
     */
    public Agent(DiscoveryBackend backend, String externalIp, int maxAttrsBytes) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.externalIp = externalIp == null ? "" : externalIp;
        this.maxAttrsBytes = maxAttrsBytes;
    }

    /**
     * The one place that checks and expands an {@code Addr} (PROTOCOL.md §5.2): empty fails; a
     * leading {@code :} gets {@code externalIp} in front; still a leading {@code :} fails. Nothing
     * else is checked or normalised.
     *
     * @param addr       the address as the client sent it
     * @param externalIp the daemon's external IP, {@code ""} for none
     * @return the expanded address
     * @throws DiscoveryException with {@link #ADDR_MUST_BE_SET} or {@link #ADDR_NEEDS_HOST}
     */
    public static String expandAddr(String addr, String externalIp) {
        if (addr == null || addr.isEmpty()) {
            throw new DiscoveryException(ADDR_MUST_BE_SET);
        }
        String expanded = addr.startsWith(":") ? externalIp + addr : addr;
        if (expanded.startsWith(":")) {
            throw new DiscoveryException(ADDR_NEEDS_HOST);
        }
        return expanded;
    }

    /** The size of attributes as {@code maxAttrsBytes} counts it: UTF-8 bytes of every key and value. */
    public static long attrsBytes(Map<String, String> attrs) {
        if (attrs == null) {
            return 0;
        }
        long n = 0;
        for (Map.Entry<String, String> e : attrs.entrySet()) {
            n += utf8Length(e.getKey()) + utf8Length(e.getValue());
        }
        return n;
    }

    private static long utf8Length(String s) {
        return s == null ? 0 : s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** The one place that turns a stored instance into an online {@link ServiceUpdate} (PROTOCOL.md §5.5.1). */
    public static ServiceUpdate toUpdate(Instance instance) {
        return ServiceUpdate.online(instance.name(), instance.addr(), instance.attrs(), instance.created());
    }

    /**
     * The update of a subscriber's {@code online} call, one object for all the subscribers of one
     * change, so that its body is encoded once per codec (see {@link SharedUpdates}). Thread-safe.
     */
    PreparedUpdate prepareOnline(Instance instance) {
        return shared.online(instance);
    }

    /** The mailbox of the event loop {@code loop} (one per loop, made on first use). Thread-safe. */
    LoopMailbox mailbox(EventLoop loop) {
        return mailboxes.computeIfAbsent(loop, LoopMailbox::new);
    }

    /** The update of a subscriber's {@code offline} call, shared like {@link #prepareOnline}. Thread-safe. */
    PreparedUpdate prepareOffline(String name, String addr) {
        return shared.offline(name, addr);
    }

    /**
     * {@code Agent.Register} (PROTOCOL.md §5.3).
     *
     * @return the expanded address, the reply
     */
    public CompletionStage<String> register(Args args) {
        String addr;
        try {
            addr = expandAddr(args.addr(), externalIp);
            long size = attrsBytes(args.attrs());
            if (size > maxAttrsBytes) {
                throw new DiscoveryException("discoverd: Attrs too large (" + size + " bytes, limit " + maxAttrsBytes + ")");
            }
        } catch (DiscoveryException e) {
            return CompletableFuture.failedFuture(e);
        }
        return call(() -> backend.register(args.name(), addr, args.attrs())).thenApply(r -> {
            Instance i = r.instance();
            if (r.outcome() == Registration.Outcome.REFRESHED) {
                log.debug("heartbeat {} {}", i.name(), i.addr());
            } else {
                log.info("{} {} {} attrs={} created={}", r.outcome() == Registration.Outcome.CREATED ? "registered" : "updated",
                        i.name(), i.addr(), brief(i.attrs()), Long.toUnsignedString(i.created()));
            }
            return addr;
        });
    }

    /** {@code Agent.Unregister} (PROTOCOL.md §5.4): same address checks as Register; {@code Attrs} ignored. */
    public CompletionStage<Void> unregister(Args args) {
        String addr;
        try {
            addr = expandAddr(args.addr(), externalIp);
        } catch (DiscoveryException e) {
            return CompletableFuture.failedFuture(e);
        }
        return call(() -> backend.unregister(args.name(), addr)).thenApply(v -> {
            log.info("unregistered {} {}", args.name(), addr);
            return v;
        });
    }

    /**
     * {@code Agent.Leader} (PROTOCOL.md §5.11): the online instance with the smallest {@code Created}.
     *
     * @return the leader as an online update; fails with {@code discoverd: no leader for <Name>}
     */
    public CompletionStage<ServiceUpdate> leader(Args args) {
        return call(() -> backend.leader(args.name())).thenApply(leader -> toUpdate(leader.orElseThrow(
                () -> new DiscoveryException("discoverd: no leader for " + args.name()))));
    }

    /**
     * {@code Agent.Subscribe} (PROTOCOL.md §5.5): only {@code Name} is used.
     *
     * @throws RuntimeException when the backend refuses synchronously
     */
    public Subscription subscribe(Args args, SubscriptionListener listener) {
        return backend.subscribe(args.name(), listener);
    }

    /** Attributes for a log line: large ones are cut, so one client cannot flood the log. */
    private static String brief(Map<String, String> attrs) {
        String s = String.valueOf(attrs);
        return s.length() <= 200 ? s : s.substring(0, 200) + "...(" + attrsBytes(attrs) + " bytes)";
    }

    /** Runs a backend call, turning a synchronous throw into a failed stage. */
    private static <T> CompletionStage<T> call(java.util.function.Supplier<CompletionStage<T>> op) {
        try {
            return op.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
