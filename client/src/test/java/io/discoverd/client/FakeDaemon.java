package io.discoverd.client;

import io.discoverd.protocol.Args;
import io.discoverd.protocol.ServiceUpdate;
import io.discoverd.protocol.http.Handshake;
import io.discoverd.protocol.http.HttpRequestHead;
import io.discoverd.protocol.http.HttpRequestHeadParser;
import io.discoverd.protocol.rpc.RpcRequest;
import io.discoverd.protocol.rpc.ServerCodec;
import io.discoverd.protocol.rpc.ServerCodecs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A minimal discoverd daemon for the client's tests: plain blocking sockets, the protocol module's
 * server codec, an in-memory store with {@code Created} from a counter, EXTERNAL_IP 127.0.0.1, no
 * TTL. The store survives {@link #stop()}/{@link #start()}, like a shared store behind a restarted
 * daemon; {@link #putDirect}/{@link #removeDirect} change it as another daemon would.
 */
final class FakeDaemon implements AutoCloseable {

    record Instance(Map<String, String> attrs, long created) {
    }

    private final Object store = new Object();
    private final Map<String, Map<String, Instance>> services = new HashMap<>();
    private long nextCreated = 1;
    private final List<Sub> subs = new ArrayList<>();
    private final Map<String, List<Long>> registerTimes = new ConcurrentHashMap<>();
    private final List<Conn> conns = new CopyOnWriteArrayList<>();
    private volatile int subscribeCount;
    /** Names whose Subscribe is not answered until {@link #release}. */
    private final Set<String> stalled = ConcurrentHashMap.newKeySet();
    /** Names whose Subscribe is answered with a failure frame at once. */
    private final Map<String, String> rejected = new ConcurrentHashMap<>();
    private final Map<String, String> failedAfterSentinel = new ConcurrentHashMap<>();
    private volatile ServerSocket server;
    /** While stopped: the port bound but not listening, so that no other process takes it. */
    private Socket reservation;
    private int port;

    private record Sub(Conn conn, RpcRequest call, String name) {
    }

    final class Conn {
        final Socket socket;
        final OutputStream out;
        ServerCodec codec;
        /** Reads requests but answers none: a daemon gone without closing TCP. */
        volatile boolean frozen;
        /** Stops reading: the client's send buffer fills up. */
        volatile boolean deaf;

        Conn(Socket socket) throws IOException {
            this.socket = socket;
            this.out = socket.getOutputStream();
        }

        void send(java.util.function.Function<ServerCodec, byte[]> encode) {
            synchronized (this) {
                try {
                    out.write(encode.apply(codec));
                    out.flush();
                } catch (IOException e) {
                    close();
                }
            }
        }

        void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    FakeDaemon() throws IOException {
        start();
    }

    int port() {
        return port;
    }

    String address() {
        return "127.0.0.1:" + port;
    }

    /**
     * Listens (again) on the same port. The reservation is released first (Linux refuses a listening
     * bind beside it now and then); the port is then bound again at once, retried briefly if the
     * kernel still holds it.
     */
    synchronized void start() throws IOException {
        if (reservation != null) {
            reservation.close();
            reservation = null;
        }
        ServerSocket s = null;
        for (int attempt = 1; s == null; attempt++) {
            ServerSocket candidate = new ServerSocket();
            candidate.setReuseAddress(true);
            try {
                candidate.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                s = candidate;
            } catch (java.net.BindException e) {
                candidate.close();
                if (attempt == 50) {
                    throw e;
                }
                try {
                    Thread.sleep(20); // the kernel frees the port on its own schedule: nothing to await
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException(ie);
                }
            }
        }
        ServerSocket listening = s;
        port = listening.getLocalPort();
        server = listening;
        Thread t = new Thread(() -> acceptLoop(listening), "fake-daemon-accept");
        t.setDaemon(true);
        t.start();
    }

    /** Stops listening and drops every connection; the store stays. */
    synchronized void stop() {
        try {
            server.close();
            if (reservation == null) {
                Socket r = new Socket();
                r.setReuseAddress(true);
                r.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                reservation = r;
            }
        } catch (IOException ignored) {
            // closing; the reservation is best effort
        }
        dropConnections();
    }

    /** Stops for good, releasing the port. */
    synchronized void shutdown() {
        stop();
        if (reservation != null) {
            try {
                reservation.close();
            } catch (IOException ignored) {
                // closing
            }
            reservation = null;
        }
    }

    /** Server-initiated disconnect of every client, still listening. */
    void dropConnections() {
        for (Conn c : conns) {
            c.close();
        }
        synchronized (store) {
            subs.clear();
        }
    }

    @Override
    public void close() {
        shutdown();
    }

    /** The current connections stop answering but stay open (power loss, partition, SIGSTOP). */
    void freezeConnections() {
        conns.forEach(c -> c.frozen = true);
    }

    /** The current connections stop reading, so that the client's writes eventually block. */
    void deafenConnections() {
        conns.forEach(c -> c.deaf = true);
    }

    /** Subscribes to {@code name} wait (holding their connection) until {@link #release}. */
    void stall(String name) {
        stalled.add(name);
    }

    void release(String name) {
        stalled.remove(name);
    }

    /** Subscribes to {@code name} fail with {@code error} ({@code null}: accepted again). */
    void rejectSubscribes(String name, String error) {
        if (error == null) {
            rejected.remove(name);
        } else {
            rejected.put(name, error);
        }
    }

    /**
     * Subscribes to {@code name} get the sentinel and then fail with {@code error}, as a daemon does
     * whose store is unreachable (PROTOCOL.md §5.5.4); {@code null}: accepted again.
     */
    void failSubscribesAfterSentinel(String name, String error) {
        if (error == null) {
            failedAfterSentinel.remove(name);
        } else {
            failedAfterSentinel.put(name, error);
        }
    }

    int subscribeCount() {
        return subscribeCount;
    }

    int connectionCount() {
        return (int) conns.stream().filter(c -> !c.socket.isClosed()).count();
    }

    int activeSubscriptions() {
        synchronized (store) {
            return subs.size();
        }
    }

    /** nanoTime of every Register of {@code name} at expanded {@code addr}. */
    List<Long> registerTimes(String name, String addr) {
        return List.copyOf(registerTimes.getOrDefault(name + " " + addr, List.of()));
    }

    Map<String, Instance> instances(String name) {
        synchronized (store) {
            return Map.copyOf(services.getOrDefault(name, Map.of()));
        }
    }

    /** As a Register through another daemon: creates or changes an instance, notifying subscribers. */
    void putDirect(String name, String addr, Map<String, String> attrs) {
        synchronized (store) {
            put(name, addr, attrs);
        }
    }

    /** As an Unregister or expiry through another daemon. */
    boolean removeDirect(String name, String addr) {
        synchronized (store) {
            return remove(name, addr);
        }
    }

    /** Ends every stream of {@code name} with a failure frame (PROTOCOL.md §5.5.4). */
    void failStreams(String name, String error) {
        synchronized (store) {
            for (Sub s : List.copyOf(subs)) {
                if (s.name.equals(name)) {
                    subs.remove(s);
                    s.conn.send(codec -> codec.encodeError(s.call, error));
                }
            }
        }
    }

    private void acceptLoop(ServerSocket s) {
        while (!s.isClosed()) {
            try {
                Socket sock = s.accept();
                sock.setTcpNoDelay(true);
                Conn c = new Conn(sock);
                conns.add(c);
                Thread t = new Thread(() -> serve(c), "fake-daemon-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Conn c) {
        try (Socket sock = c.socket) {
            InputStream in = sock.getInputStream();
            HttpRequestHeadParser parser = new HttpRequestHeadParser(8192);
            byte[] buf = new byte[8192];
            HttpRequestHead head = null;
            while (head == null) {
                int n = in.read(buf);
                if (n < 0) {
                    return;
                }
                head = parser.feed(buf, 0, n);
            }
            if (Handshake.route(head) != Handshake.Route.CONNECT_RPC) {
                c.out.write(Handshake.answerFor(head));
                return;
            }
            c.codec = ServerCodecs.create(Handshake.codecFor(head), 1 << 20);
            synchronized (c) {
                c.out.write(Handshake.connected());
                c.out.flush();
            }
            c.codec.feed(head.remaining(), 0, head.remaining().length);
            while (true) {
                RpcRequest r;
                while ((r = c.codec.next()) != null) {
                    handle(c, r);
                }
                while (c.deaf && !sock.isClosed()) {
                    Thread.sleep(10);
                }
                int n = in.read(buf);
                if (n < 0) {
                    return;
                }
                c.codec.feed(buf, 0, n);
            }
        } catch (Exception e) {
            // connection over
        } finally {
            conns.remove(c);
            synchronized (store) {
                subs.removeIf(s -> s.conn == c);
            }
        }
    }

    private static String expand(String addr) {
        return addr.startsWith(":") ? "127.0.0.1" + addr : addr;
    }

    private void handle(Conn c, RpcRequest r) throws InterruptedException {
        if (c.frozen) {
            return;
        }
        String m = r.serviceMethod();
        if (m.equals(RpcRequest.CLOSE_STREAM)) {
            Sub found = null;
            synchronized (store) {
                for (Sub s : subs) {
                    if (s.conn == c && s.call.seq() == r.seq()) {
                        found = s;
                    }
                }
                if (found != null) {
                    subs.remove(found);
                    Sub f = found;
                    c.send(codec -> codec.encodeError(f.call, "EOS"));
                }
            }
            return;
        }
        Args a = r.args();
        if (a == null) {
            c.send(codec -> codec.encodeError(r, r.argsError()));
            return;
        }
        switch (m) {
            case "Agent.Register" -> {
                if (a.addr().isEmpty()) {
                    c.send(codec -> codec.encodeError(r, "discoverd: Addr must be set"));
                    return;
                }
                if (a.attrs() != null && a.attrs().containsKey("refuse")) {
                    c.send(codec -> codec.encodeError(r, "discoverd: refused"));
                    return;
                }
                String addr = expand(a.addr());
                registerTimes.computeIfAbsent(a.name() + " " + addr, k -> new CopyOnWriteArrayList<>()).add(System.nanoTime());
                synchronized (store) {
                    put(a.name(), addr, a.attrs());
                    c.send(codec -> codec.encodeString(r, addr));
                }
            }
            case "Agent.Unregister" -> {
                if (a.addr().isEmpty()) {
                    c.send(codec -> codec.encodeError(r, "discoverd: Addr must be set"));
                    return;
                }
                String addr = expand(a.addr());
                synchronized (store) {
                    if (remove(a.name(), addr)) {
                        c.send(codec -> codec.encodeEmpty(r));
                    } else {
                        c.send(codec -> codec.encodeError(r, "100: Key not found (/discover/services/" + a.name() + "/" + addr + ") [1]"));
                    }
                }
            }
            case "Agent.Subscribe" -> {
                subscribeCount++;
                while (stalled.contains(a.name()) && !c.socket.isClosed()) {
                    Thread.sleep(10);
                }
                String rejection = rejected.get(a.name());
                if (rejection != null) {
                    c.send(codec -> codec.encodeError(r, rejection));
                    return;
                }
                String failure = failedAfterSentinel.get(a.name());
                if (failure != null) {
                    c.send(codec -> codec.encodeUpdate(r, ServiceUpdate.SENTINEL));
                    c.send(codec -> codec.encodeError(r, failure));
                    return;
                }
                synchronized (store) {
                    for (Map.Entry<String, Instance> e : services.getOrDefault(a.name(), Map.of()).entrySet()) {
                        ServiceUpdate u = ServiceUpdate.online(a.name(), e.getKey(), e.getValue().attrs(), e.getValue().created());
                        c.send(codec -> codec.encodeUpdate(r, u));
                    }
                    c.send(codec -> codec.encodeUpdate(r, ServiceUpdate.SENTINEL));
                    subs.add(new Sub(c, r, a.name()));
                }
            }
            default -> c.send(codec -> codec.encodeError(r, "rpc: can't find method " + m));
        }
    }

    /** Holds {@link #store}. */
    private void put(String name, String addr, Map<String, String> attrs) {
        Map<String, Instance> svc = services.computeIfAbsent(name, k -> new LinkedHashMap<>());
        Instance old = svc.get(addr);
        if (old != null && Objects.equals(old.attrs(), attrs)) {
            return; // heartbeat
        }
        Instance now = new Instance(attrs, old != null ? old.created() : nextCreated++);
        svc.put(addr, now);
        notify(ServiceUpdate.online(name, addr, attrs, now.created()));
    }

    /** Holds {@link #store}. */
    private boolean remove(String name, String addr) {
        Map<String, Instance> svc = services.get(name);
        if (svc == null || svc.remove(addr) == null) {
            return false;
        }
        notify(ServiceUpdate.offline(name, addr));
        return true;
    }

    private void notify(ServiceUpdate u) {
        for (Sub s : subs) {
            if (s.name.equals(u.name())) {
                s.conn.send(codec -> codec.encodeUpdate(s.call, u));
            }
        }
    }
}
