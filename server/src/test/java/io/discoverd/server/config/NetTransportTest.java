package io.discoverd.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void auto_takesThePreferredNativeTransport_whenItLoads_elseNio() {
        assertSame(EPOLL_LOADS, NetTransport.select(NetTransport.AUTO, EPOLL_LOADS, n -> null));
        assertSame(Transport.NIO, NetTransport.select(NetTransport.AUTO, URING_REFUSED, n -> null));
        assertSame(Transport.NIO, NetTransport.select(NetTransport.AUTO, null, n -> null), "no native transport for this OS");
    }

    @Test
    void aNamedTransport_mustLoad_andTheErrorGivesNettysReason() {
        Map<NetTransport, Transport> host = Map.of(NetTransport.EPOLL, EPOLL_LOADS, NetTransport.IO_URING, URING_REFUSED);
        assertSame(EPOLL_LOADS, NetTransport.select(NetTransport.EPOLL, null, host::get));

        var refused = assertThrows(IllegalStateException.class,
                () -> NetTransport.select(NetTransport.IO_URING, EPOLL_LOADS, host::get));
        assertTrue(refused.getMessage().startsWith("transport: io_uring is not available on this host: "), refused.getMessage());
        assertTrue(refused.getMessage().contains("Operation not permitted"), refused.getMessage());

        var absent = assertThrows(IllegalStateException.class,
                () -> NetTransport.select(NetTransport.EPOLL, null, n -> null));
        assertTrue(absent.getMessage().startsWith("transport: epoll is not available on this host"), absent.getMessage());
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
