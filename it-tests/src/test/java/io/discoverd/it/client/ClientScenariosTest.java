package io.discoverd.it.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.sun.net.httpserver.HttpServer;
import io.discoverd.client.DiscoverdClient;
import io.discoverd.client.DiscoverdException;
import io.discoverd.client.ListenerHandle;
import io.discoverd.client.ServiceInstance;
import io.discoverd.client.ServiceResolver;
import io.discoverd.client.ServiceSet;
import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.EachBackend;
import io.discoverd.it.StoreAndDaemon;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

/**
 * The Java client library against a real daemon: PROTOCOL.md §9's client scenarios (all but the
 * two-daemon one, {@link ReconnectAcrossDaemonsTest}), plus what issue 5 adds (filtered views that
 * drop instances going offline, listeners that cannot stall each other, dialling through
 * {@link ServiceResolver}). One daemon per backend with a 2 s registration TTL and clients
 * heartbeating every 500 ms, so that the heartbeat scenario (16) shows survival past several TTLs in
 * seconds; each test uses service names of its own.
 */
@EachBackend
class ClientScenariosTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    static final Duration TTL = Duration.ofSeconds(2);
    static final Duration HEARTBEAT = Duration.ofMillis(500);

    @TempDir
    static Path tmp;
    private static StoreAndDaemon env;
    private static DaemonProcess daemon;

    private DiscoverdClient client;

    @BeforeParameterizedClassInvocation
    static void startDaemon(Backend backend) throws Exception {
        env = StoreAndDaemon.start(backend, tmp, "registrationTtl: " + TTL.toSeconds() + "s");
        daemon = env.daemon();
    }

    @AfterParameterizedClassInvocation
    static void stopDaemon() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @BeforeEach
    void connect() throws DiscoverdException {
        client = connect(daemon);
    }

    @AfterEach
    void cleanUp() {
        try {
            client.unregisterAll();
        } catch (DiscoverdException e) {
            // the test's own assertions say what went wrong
        }
        client.close();
        assertTrue(daemon.isAlive(), () -> "the daemon died:\n" + daemon.output());
    }

    /** A client of {@code d} that heartbeats every {@link #HEARTBEAT}. */
    static DiscoverdClient connect(DaemonProcess d) throws DiscoverdException {
        return DiscoverdClient.builder().address(d.address()).heartbeatInterval(HEARTBEAT).build();
    }

    /** The address {@code :port} expands to with the daemon's {@code EXTERNAL_IP=127.0.0.1}. */
    static String at(int port) {
        return "127.0.0.1:" + port;
    }

    static List<String> addrs(List<ServiceInstance> instances) {
        return instances.stream().map(ServiceInstance::addr).toList();
    }

    static Optional<String> addr(Optional<ServiceInstance> leader) {
        return leader.map(ServiceInstance::addr);
    }

    /** Whether {@code e} is the online event of {@code addr}. */
    static boolean onlineAt(ServiceInstance e, String addr) {
        return e.online() && e.addr().equals(addr);
    }

    /** The next event, which must be the online event of {@code at(port)}. */
    private static ServiceInstance nextOnlineAt(Recorder<ServiceInstance> events, int port) throws InterruptedException {
        ServiceInstance e = events.next();
        assertTrue(onlineAt(e, at(port)), e::toString);
        return e;
    }

    static Map<String, String> attrsByAddr(List<ServiceInstance> instances) {
        Map<String, String> m = new LinkedHashMap<>();
        instances.forEach(i -> m.put(i.addr(), i.attrs().toString()));
        return m;
    }

    /** Waits (polling) until {@code condition} holds, for at most {@link Recorder#WAIT}. */
    static void awaitTrue(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Recorder.WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + Recorder.WAIT + ": " + what);
            }
            Thread.sleep(10); // polling a condition that has no listener of its own
        }
    }

    @Test
    @DisplayName("§9.1 register and list: a set opened after two Registers holds both, oldest first; Unregister of :2222 is exactly one offline event; "
            + ":1111 keeps foo=bar; closing the set ends its listeners")
    void registerAndList() throws Exception {
        String n = "basicTest";
        assertEquals(at(1111), client.register(n, ":1111", Map.of("foo", "bar")));
        assertEquals(at(2222), client.register(n, ":2222"));
        ServiceSet set = client.serviceSet(n);
        assertEquals(List.of(at(1111), at(2222)), set.addrs());
        Recorder<ServiceInstance> events = new Recorder<>("watch " + n);
        ListenerHandle watch = set.watch(false, events);

        client.unregister(n, ":2222");
        ServiceInstance off = events.next();
        assertFalse(off.online(), () -> "expected offline, got " + off);
        assertEquals(at(2222), off.addr());
        List<ServiceInstance> left = set.services();
        assertEquals(List.of(at(1111)), addrs(left));
        assertEquals(Map.of("foo", "bar"), left.get(0).attrs());
        assertEquals(n, left.get(0).name());
        client.register(n, ":3333"); // fence: events arrive in order, so nothing else came before it
        assertEquals(List.of(), events.until(e -> onlineAt(e, at(3333))), "exactly one offline update for :2222");

        set.close();
        assertFalse(watch.isActive(), "closing the set ends its listeners");
        assertEquals(List.of(at(1111), at(3333)), addrs(client.services(n)), "the client works on after CloseStream");
    }

    @Test
    @DisplayName("§9.2 attribute change: a set on an unused name is empty; Register is one online event; Register with new attrs is exactly one more, "
            + "same address and Created; the set shows foo=baz")
    void attributeChange() throws Exception {
        String n = "attrTest";
        try (ServiceSet set = client.serviceSet(n)) {
            assertEquals(List.of(), set.services());
            Recorder<ServiceInstance> events = new Recorder<>("watch " + n);
            set.watch(false, events);
            client.register(n, ":1111", Map.of("foo", "bar"));
            ServiceInstance first = nextOnlineAt(events, 1111);
            assertEquals(Map.of("foo", "bar"), first.attrs());
            assertNotEquals(0, first.created());

            client.register(n, ":1111", Map.of("foo", "baz"));
            ServiceInstance second = nextOnlineAt(events, 1111);
            assertEquals(Map.of("foo", "baz"), second.attrs());
            assertEquals(first.created(), second.created(), "an attribute change keeps Created");
            client.register(n, ":9999");
            assertEquals(List.of(), events.until(e -> onlineAt(e, at(9999))), "exactly one update per Register");
            assertEquals(Map.of("foo", "baz"), set.services().get(0).attrs());
        }
    }

    @Test
    @DisplayName("§9.3 two sets on one connection both get every online update with its attrs; a filtered view (foo=qux) holds the matching ones "
            + "and reports offline an instance that goes offline or stops matching (issue 5)")
    void twoSetsAndFilteringWhichDropsInstancesGoingOffline() throws Exception {
        String n = "filterTest";
        try (ServiceSet s1 = client.serviceSet(n); ServiceSet s2 = client.serviceSet(n)) {
            Recorder<ServiceInstance> r1 = new Recorder<>("set 1");
            Recorder<ServiceInstance> r2 = new Recorder<>("set 2");
            s1.watch(false, r1);
            s2.watch(false, r2);
            ServiceSet qux = s1.filter(Map.of("foo", "qux"));
            Recorder<ServiceInstance> rq = new Recorder<>("filtered view foo=qux");
            qux.watch(false, rq);

            client.register(n, ":1111");
            client.register(n, ":2222", Map.of("foo", "qux", "id", "2"));
            client.register(n, ":3333", Map.of("foo", "qux", "id", "3"));
            client.register(n, ":4444", Map.of("foo", "baz"));
            Map<String, String> expected = new LinkedHashMap<>();
            expected.put(at(1111), "{}");
            expected.put(at(2222), "{foo=qux, id=2}");
            expected.put(at(3333), "{foo=qux, id=3}");
            expected.put(at(4444), "{foo=baz}");
            for (Recorder<ServiceInstance> r : List.of(r1, r2)) {
                List<ServiceInstance> got = r.next(4);
                assertTrue(got.stream().allMatch(ServiceInstance::online), got::toString);
                assertEquals(expected, attrsByAddr(got), "every online update, in registration order, with its attributes");
            }
            List<ServiceInstance> filtered = rq.next(2);
            assertEquals(List.of(at(2222), at(3333)), addrs(filtered));
            assertEquals(List.of(at(2222), at(3333)), qux.addrs());
            assertEquals(List.of(at(2222), at(3333)), s2.filter(Map.of("foo", "qux")).addrs());
            assertEquals(4, s1.services().size(), "filtering is client-side: the set itself holds all four");
            assertEquals(Optional.of(at(2222)), addr(qux.leader()));

            client.unregister(n, ":2222");
            ServiceInstance off = rq.next();
            assertFalse(off.online(), () -> "the filtered view must report the offline instance (the original dropped it): " + off);
            assertEquals(at(2222), off.addr());
            assertEquals(List.of(at(3333)), qux.addrs());
            assertEquals(Optional.of(at(3333)), addr(qux.leader()));

            client.register(n, ":3333", Map.of("foo", "baz"));
            ServiceInstance left = rq.next();
            assertFalse(left.online(), () -> "an instance whose attributes stop matching leaves the view: " + left);
            assertEquals(at(3333), left.addr());
            client.register(n, ":5555", Map.of("foo", "qux"));
            assertEquals(List.of(), rq.until(e -> onlineAt(e, at(5555))), "the view saw nothing else");
            assertEquals(List.of(at(5555)), qux.addrs());
        }
    }

    @Test
    @DisplayName("§9.4 selecting: the set holds three instances with their attrs; select(id=3) finds exactly :3333, select(foo=qux) two")
    void selecting() throws Exception {
        String n = "selectTest";
        client.register(n, ":1111");
        client.register(n, ":2222", Map.of("foo", "qux", "id", "2"));
        client.register(n, ":3333", Map.of("foo", "qux", "id", "3"));
        try (ServiceSet set = client.serviceSet(n)) {
            assertEquals(Map.of(at(1111), "{}", at(2222), "{foo=qux, id=2}", at(3333), "{foo=qux, id=3}"), attrsByAddr(set.services()));
            List<ServiceInstance> three = set.select(Map.of("id", "3"));
            assertEquals(List.of(at(3333)), addrs(three));
            assertEquals(Map.of("foo", "qux", "id", "3"), three.get(0).attrs());
            assertEquals(List.of(at(2222), at(3333)), addrs(set.select(Map.of("foo", "qux"))));
            assertEquals(List.of(), set.select(Map.of("id", "4")));
        }
    }

    @Test
    @DisplayName("§9.5 one-shot listing right after two Registers holds both (read-your-writes), oldest first")
    void oneShotListing() throws Exception {
        String n = "listTest";
        assertEquals(List.of(), client.services(n));
        client.register(n, ":1111");
        client.register(n, ":2222");
        List<ServiceInstance> listed = client.services(n);
        assertEquals(List.of(at(1111), at(2222)), addrs(listed));
        assertTrue(Long.compareUnsigned(listed.get(0).created(), listed.get(1).created()) < 0, listed::toString);
    }

    @Test
    @DisplayName("§9.7 watching with the current members first: :1111 and :2222 (oldest first), then :3333 live, three online events within 3 s")
    void watching() throws Exception {
        String n = "watchTest";
        client.register(n, ":1111");
        client.register(n, ":2222");
        try (ServiceSet set = client.serviceSet(n)) {
            Recorder<ServiceInstance> events = new Recorder<>("watch " + n);
            long start = System.nanoTime();
            set.watch(true, events);
            client.register(n, ":3333");
            List<ServiceInstance> got = List.of(events.next(Duration.ofSeconds(3)), events.next(Duration.ofSeconds(3)), events.next(Duration.ofSeconds(3)));
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3), "within 3 s");
            assertEquals(List.of(at(1111), at(2222), at(3333)), addrs(got));
            assertTrue(got.stream().allMatch(e -> e.online() && e.name().equals(n)), got::toString);
        }
    }

    @Test
    @DisplayName("§9.8 no services: a set on a name never used holds nothing, has no leader, and its watchers get nothing until a Register")
    void noServices() throws Exception {
        String n = "neverUsed";
        try (ServiceSet set = client.serviceSet(n)) {
            assertEquals(List.of(), set.services());
            assertEquals(Optional.empty(), set.leader());
            Recorder<ServiceInstance> events = new Recorder<>("watch " + n);
            Recorder<Optional<ServiceInstance>> leaders = new Recorder<>("leader of " + n);
            set.watch(true, events);
            set.watchLeader(leaders);
            assertEquals(Optional.empty(), leaders.next());
            client.register(n, ":1111");
            assertEquals(List.of(), events.until(e -> onlineAt(e, at(1111))), "nothing before the first Register");
            assertEquals(Optional.of(at(1111)), addr(leaders.next()));
        }
    }

    @Test
    @DisplayName("§9.9 register with set: the reply 127.0.0.1:2222 is the set's self, kept out of its list (only :1111); a listing holds both")
    void registerWithSet() throws Exception {
        String n = "withSetTest";
        client.register(n, ":1111");
        try (ServiceSet set = client.registerWithSet(n, ":2222", null)) {
            assertEquals(Optional.of(at(2222)), set.selfAddr());
            assertEquals(List.of(at(1111)), set.addrs());
            assertEquals(List.of(at(1111)), addrs(set.services()));
            assertEquals(Optional.of(at(1111)), addr(set.leader()), "self takes part in the leader, and :1111 is older");
            assertEquals(List.of(at(1111), at(2222)), addrs(client.services(n)));
        }
    }

    @Test
    @DisplayName("§9.10 age order: after each of four Registers the oldest is :1111 and the order is registration order with a constant Created, "
            + "also after heartbeats; after unregistering :1111 the oldest is :2222")
    void ageOrder() throws Exception {
        String n = "ageTest";
        List<String> expected = new java.util.ArrayList<>();
        Map<String, Long> created = new HashMap<>();
        for (int port : new int[] {1111, 2222, 3333, 4444}) {
            client.register(n, ":" + port);
            expected.add(at(port));
            List<ServiceInstance> listed = client.services(n);
            assertEquals(expected, addrs(listed), "oldest first");
            for (ServiceInstance i : listed) {
                Long before = created.putIfAbsent(i.addr(), i.created());
                assertTrue(before == null || before == i.created(), () -> "Created changed: " + i + " was " + created.get(i.addr()));
            }
        }
        Thread.sleep(HEARTBEAT.multipliedBy(3).toMillis()); // on purpose: let heartbeats happen
        List<ServiceInstance> later = client.services(n);
        assertEquals(expected, addrs(later));
        later.forEach(i -> assertEquals(created.get(i.addr()), i.created(), () -> "heartbeats must not change Created: " + i));
        client.unregister(n, ":1111");
        assertEquals(List.of(at(2222), at(3333), at(4444)), addrs(client.services(n)));
    }

    @Test
    @DisplayName("§9.11 leader changes: :1111; none after unregistering it; :2222 after registering :2222 and :3333; :3333 after unregistering :2222")
    void leaderChanges() throws Exception {
        String n = "leaderTest";
        client.register(n, ":1111");
        try (ServiceSet set = client.serviceSet(n)) {
            Recorder<Optional<ServiceInstance>> leaders = new Recorder<>("leader of " + n);
            set.watchLeader(leaders);
            assertEquals(Optional.of(at(1111)), addr(leaders.next()));
            client.unregister(n, ":1111");
            assertEquals(Optional.empty(), addr(leaders.next()));
            assertEquals(Optional.empty(), set.leader());
            client.register(n, ":2222");
            assertEquals(Optional.of(at(2222)), addr(leaders.next()));
            client.register(n, ":3333");
            client.unregister(n, ":2222");
            assertEquals(Optional.of(at(3333)), addr(leaders.next()), "registering :3333 did not change the leader; unregistering :2222 did");
            assertEquals(Optional.of(at(3333)), addr(set.leader()));
            assertEquals(4, leaders.all().size(), () -> "leader values: " + leaders.all());
        }
    }

    @Test
    @DisplayName("§9.12 leader is self: :1111 leads; after unregistering it the leader is self (:2222, registered with the set) and not the younger :3333")
    void leaderIsSelf() throws Exception {
        String n = "selfLeaderTest";
        client.register(n, ":1111");
        try (ServiceSet set = client.registerWithSet(n, ":2222", null)) {
            Recorder<Optional<ServiceInstance>> leaders = new Recorder<>("leader of " + n);
            set.watchLeader(leaders);
            assertEquals(Optional.of(at(1111)), addr(leaders.next()));
            client.register(n, ":3333");
            client.unregister(n, ":1111");
            Optional<ServiceInstance> now = leaders.next();
            assertEquals(set.selfAddr(), addr(now), () -> "leader after :1111 left: " + now + ", all: " + leaders.all());
            assertEquals(Optional.of(at(2222)), addr(set.leader()));
            assertEquals(List.of(at(3333)), set.addrs(), "self stays out of the list");
        }
    }

    @Test
    @DisplayName("§9.13 standby: :2222 registered in standby is registered at once but becomes leader only when :1111 is unregistered, "
            + "not when :3333 comes and goes")
    void standby() throws Exception {
        String n = "standbyTest";
        client.register(n, ":1111");
        CompletableFuture<ServiceInstance> leader = client.registerAndStandby(n, ":2222", null);
        assertEquals(List.of(at(1111), at(2222)), addrs(client.services(n)), "the standby is registered before the call returns");
        client.register(n, ":3333");
        client.unregister(n, ":3333");
        assertEquals(List.of(at(1111), at(2222)), addrs(client.services(n)));
        assertFalse(leader.isDone(), () -> "standby fired while :1111 leads: " + leader);
        client.unregister(n, ":1111");
        ServiceInstance self = leader.get(Recorder.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(at(2222), self.addr());
        assertTrue(self.online());
        assertEquals(List.of(at(2222)), addrs(client.services(n)), "the registration stays after the standby fired");
    }

    @Test
    @DisplayName("§9.14 unregister all: three registrations listed; after unregisterAll a new set is empty, on this and on another connection")
    void unregisterAll() throws Exception {
        unregisterAllThrough(client, "unregisterAllTest");
    }

    static void unregisterAllThrough(DiscoverdClient c, String n) throws Exception {
        c.register(n, ":1111");
        c.register(n, ":2222", Map.of("a", "b"));
        c.register(n, ":3333");
        assertEquals(List.of(at(1111), at(2222), at(3333)), addrs(c.services(n)));
        c.unregisterAll();
        assertEquals(List.of(), c.services(n), "read-your-writes for Unregister");
        try (DiscoverdClient other = connect(daemon)) {
            assertEquals(List.of(), other.services(n));
        }
    }

    @Test
    @DisplayName("§9.15 default address: DISCOVERD (with tcp://) names the daemon when no address is given, else 127.0.0.1:1111; §9.14 through it")
    void defaultAddress() throws Exception {
        assertEquals("127.0.0.1:1111", DiscoverdClient.builder().environment(Map.of()).daemonAddress());
        assertEquals(daemon.address(), DiscoverdClient.builder().environment(Map.of("DISCOVERD", "127.0.0.1:1")).address(daemon.address())
                .daemonAddress(), "an explicit address wins over DISCOVERD");
        try (DiscoverdClient c = DiscoverdClient.builder().environment(Map.of("DISCOVERD", "tcp://" + daemon.address()))
                .heartbeatInterval(HEARTBEAT).build()) {
            assertEquals(daemon.address(), c.daemonAddress());
            unregisterAllThrough(c, "defaultAddressTest");
            c.close();
            assertEquals(DiscoverdException.Kind.CLOSED, assertThrows(DiscoverdException.class, () -> c.services("defaultAddressTest")).kind());
        }
    }

    @Test
    @DisplayName("§9.16 heartbeat: an instance stays online with the same Created for 3×TTL, while one whose client closed expires after the TTL "
            + "and one unregistered by its expanded address never comes back")
    void heartbeatKeepsInstanceOnlinePastTheTtl() throws Exception {
        String n = "heartbeatTest";
        try (ServiceSet set = client.serviceSet(n)) {
            Recorder<ServiceInstance> events = new Recorder<>("watch " + n);
            set.watch(false, events);
            long start = System.nanoTime();
            client.register(n, ":1111");
            ServiceInstance kept = nextOnlineAt(events, 1111);
            long controlRegistered = System.nanoTime();
            try (DiscoverdClient control = DiscoverdClient.connect(daemon.address())) {
                control.register(n, ":2222"); // then closed: no more heartbeats, and close() does not unregister
            }
            assertTrue(onlineAt(events.next(), at(2222)));
            client.register(n, ":3333");
            assertTrue(onlineAt(events.next(), at(3333)));
            client.unregister(n, at(3333)); // by the expanded address: its heartbeat stops too, so it never comes back below
            ServiceInstance unregistered = events.next();
            assertEquals(at(3333), unregistered.addr());
            assertFalse(unregistered.online());
            ServiceInstance expired = events.next(TTL.plusSeconds(5));
            long expiredAfter = System.nanoTime() - controlRegistered;
            assertEquals(at(2222), expired.addr(), () -> "the control instance should expire first: " + expired);
            assertFalse(expired.online());
            assertTrue(expiredAfter >= TTL.toNanos(), () -> "expired before its TTL: after " + expiredAfter / 1_000_000 + " ms");

            long left = start + TTL.multipliedBy(3).toNanos() - System.nanoTime();
            if (left > 0) {
                Thread.sleep(TimeUnit.NANOSECONDS.toMillis(left) + 1); // on purpose: three TTLs pass
            }
            assertTrue(events.isDrained(), () -> "nothing else may happen while heartbeats run: " + events.all());
            List<ServiceInstance> listed = client.services(n);
            assertEquals(List.of(at(1111)), addrs(listed));
            assertEquals(kept.created(), listed.get(0).created(), "heartbeats keep Created");
        }
    }

    @Test
    @DisplayName("§9.17 HTTP dialling through ServiceResolver: 'no online services found' before anything is registered; after the HTTP server "
            + "registers 127.0.0.1:<port> the request reaches it; after Unregister the lookup fails again")
    void httpDiallingThroughDiscovery() throws Exception {
        String n = "httptest";
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/hello", ex -> {
            byte[] body = ("hello " + ex.getRequestURI().getQuery()).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try (ServiceResolver resolver = new ServiceResolver(client, ServiceResolver.Strategy.ROUND_ROBIN)) {
            URI byName = URI.create("http://" + n + "/hello?who=me");
            DiscoverdException none = assertThrows(DiscoverdException.class, () -> resolver.resolve(byName));
            assertEquals(DiscoverdException.Kind.NO_INSTANCES, none.kind());
            assertEquals("discoverd: no online services found for " + n, none.getMessage());

            String full = "127.0.0.1:" + server.getAddress().getPort();
            assertEquals(full, client.register(n, full));
            awaitTrue("the resolver's set sees " + full, () -> resolves(resolver, n));
            URI target = resolver.resolve(byName);
            assertEquals("http://" + full + "/hello?who=me", target.toString());
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("hello who=me", r.body());

            client.unregister(n, full);
            awaitTrue("the resolver's set drops " + full, () -> !resolves(resolver, n));
        } finally {
            server.stop(0);
        }
    }

    private static boolean resolves(ServiceResolver resolver, String name) {
        try {
            resolver.pick(name);
            return true;
        } catch (DiscoverdException e) {
            assertEquals(DiscoverdException.Kind.NO_INSTANCES, e.kind(), e::toString);
            return false;
        }
    }

    @Test
    @DisplayName("§9.7 watching, issue 5 listeners: a stuck watch listener stalls neither the other listeners of its set, nor other sets, nor calls; "
            + "released, it gets every event in order")
    void slowListenerStallsNothingElse() throws Exception {
        String n = "slowTest";
        String other = "slowTestOther";
        CountDownLatch release = new CountDownLatch(1);
        try (ServiceSet set = client.serviceSet(n); ServiceSet otherSet = client.serviceSet(other)) {
            Recorder<ServiceInstance> slow = new Recorder<>("stuck listener");
            set.watch(false, e -> {
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
                slow.accept(e);
            });
            Recorder<ServiceInstance> fast = new Recorder<>("second listener of the set");
            set.watch(false, fast);
            Recorder<Optional<ServiceInstance>> leaders = new Recorder<>("leader of " + n);
            set.watchLeader(leaders);
            assertEquals(Optional.empty(), leaders.next());
            Recorder<ServiceInstance> others = new Recorder<>("listener of another set");
            otherSet.watch(false, others);

            List<String> expected = new java.util.ArrayList<>();
            for (int port = 1001; port <= 1005; port++) {
                client.register(n, ":" + port);
                expected.add(at(port));
            }
            client.register(other, ":1111");
            assertEquals(expected, addrs(fast.next(5)));
            assertEquals(Optional.of(at(1001)), addr(leaders.next()));
            assertEquals(at(1111), others.next().addr());
            assertEquals(expected, addrs(client.services(n)), "calls still answered");
            assertEquals(List.of(), slow.all(), "the stuck listener is still stuck");

            release.countDown();
            assertEquals(expected, addrs(slow.next(5)), "released, it gets every event in order");
        } finally {
            release.countDown();
        }
    }
}
