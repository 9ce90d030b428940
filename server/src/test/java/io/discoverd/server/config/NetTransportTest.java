package io.discoverd.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.transport.Transport;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which Vert.x transport each {@code transport} setting stands for, whatever this host can load. */
class NetTransportTest {

    /** A transport that loads, or not (with Netty's reason), as a host might have it. */
    private static Transport fake(String name, Throwable unavailable) {
        return new Transport() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public boolean available() {
                return unavailable == null;
            }

            @Override
            public Throwable unavailabilityCause() {
                return unavailable;
            }

            @Override
            public io.vertx.core.spi.transport.Transport implementation() {
                throw new UnsupportedOperationException();
            }
        };
    }

    private static final Transport EPOLL_LOADS = fake("epoll", null);
    private static final Transport URING_REFUSED = fake("io_uring",
            new UnsupportedOperationException("io_uring_setup: Operation not permitted"));

    @Test
    void auto_takesEpoll_whenItLoads_elseNio_andNeverIoUringUnasked() {
        Transport uringLoads = fake("io_uring", null);
        Transport epollRefused = fake("epoll", new UnsatisfiedLinkError("no netty_transport_native_epoll_aarch_64"));
        assertSame(EPOLL_LOADS, NetTransport.select(NetTransport.AUTO,
                Map.of(NetTransport.EPOLL, EPOLL_LOADS, NetTransport.IO_URING, uringLoads)::get));
        assertSame(Transport.NIO, NetTransport.select(NetTransport.AUTO,
                Map.of(NetTransport.EPOLL, epollRefused, NetTransport.IO_URING, uringLoads)::get),
                "io_uring only when named, even where epoll cannot load");
        assertSame(Transport.NIO, NetTransport.select(NetTransport.AUTO, n -> null), "no epoll classes (not shipped)");
    }

    @Test
    void autoFallbackReason_isNullWhenEpollLoads_elseGivesNettysCause() {
        assertEquals(null, NetTransport.autoFallbackReason(n -> EPOLL_LOADS));
        assertEquals("epoll is not available on this host: java.lang.UnsatisfiedLinkError: no epoll here",
                NetTransport.autoFallbackReason(n -> fake("epoll", new UnsatisfiedLinkError("no epoll here"))));
        assertEquals("epoll's classes are not on the class path", NetTransport.autoFallbackReason(n -> null));
    }

    @Test
    void aNamedTransport_mustLoad_andTheErrorGivesNettysReason() {
        Map<NetTransport, Transport> host = Map.of(NetTransport.EPOLL, EPOLL_LOADS, NetTransport.IO_URING, URING_REFUSED);
        assertSame(EPOLL_LOADS, NetTransport.select(NetTransport.EPOLL, host::get));

        var refused = assertThrows(IllegalStateException.class, () -> NetTransport.select(NetTransport.IO_URING, host::get));
        assertEquals("transport: io_uring is not available on this host: java.lang.UnsupportedOperationException: "
                + "io_uring_setup: Operation not permitted (transport: auto or nio work everywhere)", refused.getMessage());

        var absent = assertThrows(IllegalStateException.class, () -> NetTransport.select(NetTransport.EPOLL, n -> null));
        assertEquals("transport: epoll is not available on this host (transport: auto or nio work everywhere)",
                absent.getMessage());
    }

    @Test
    void nio_isJavasOwn_andAlwaysLoads() {
        assertSame(Transport.NIO, NetTransport.NIO.select());
    }

    @Test
    void configNames_parseCaseInsensitively_andAnythingElseIsRefusedNamingTheChoices() {
        assertEquals(NetTransport.IO_URING, NetTransport.parse("transport", " IO_uring "));
        assertEquals(NetTransport.AUTO, NetTransport.parse("transport", "auto"));
        var e = assertThrows(IllegalArgumentException.class, () -> NetTransport.parse("transport", "kqueue"));
        assertEquals("transport: must be one of auto, nio, epoll, io_uring, got 'kqueue'", e.getMessage());
    }
}
