package io.discoverd.it.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.OnlyOn;
import io.discoverd.it.json.JsonRpcClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code transport} setting as an operator meets it on a host where Netty's native libraries
 * cannot load (here forced with Netty's {@code -Dio.netty.transport.noNative=true}, as a
 * {@code noexec} temporary directory, seccomp or another CPU would): a named native transport stops
 * the start with exit code 2 and Netty's reason, and {@code auto} starts on NIO and says why. The
 * daemon process is started as users start it ({@code bin/discoverd}).
 */
@OnlyOn(Backend.ZOOKEEPER)
class NativeTransportUnavailableTest {

    private static final String NO_NATIVE = "-Xmx256m -XX:TieredStopAtLevel=1 -Dio.netty.transport.noNative=true";

    @TempDir
    Path dir;

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String config(Path work, String transport) throws IOException {
        return "transport: " + transport + "\n"
                + "backend: zookeeper\n"
                + "dataDir: " + work.resolve("data") + "\n"
                + "zookeeper:\n"
                + "  connect: embedded\n"
                + "  embedded:\n"
                + "    port: " + freePort() + "\n";
    }

    @Test
    void aNamedNativeTransport_stopsTheStartWithExit2_whileAutoStartsOnNioAndSaysWhy() throws Exception {
        Path work = dir.resolve("daemon");
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> DaemonProcess.start(work,
                config(work, "epoll"), Map.of("DISCOVERD_JAVA_OPTS", NO_NATIVE), "127.0.0.1:0"));
        assertTrue(refused.getMessage().startsWith("daemon exited with 2:"), refused.getMessage());
        assertTrue(refused.getMessage().contains("transport: epoll is not available on this host: "), refused.getMessage());

        try (DaemonProcess d = DaemonProcess.start(work, config(work, "auto"), Map.of("DISCOVERD_JAVA_OPTS", NO_NATIVE),
                "127.0.0.1:0")) {
            assertTrue(d.output().contains("(transport nio, "), d.output());
            assertTrue(d.output().contains("transport auto: using nio, because epoll is not available on this host: "), d.output());
            try (JsonRpcClient c = JsonRpcClient.connect(d.port())) {
                assertEquals("127.0.0.1:80", c.register("nio", ":80", Map.of()));
            }
        }
    }
}
