package io.discoverd.server.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A plain blocking socket client for the daemon, loopback only. Reads time out after 5 s. */
public final class WireClient implements AutoCloseable {

    public static final byte[] CONNECTED = "HTTP/1.0 200 Connected to Go RPC\n\n".getBytes(StandardCharsets.US_ASCII);
    public static final String GOB_CONNECT = "CONNECT /_goRPC_ HTTP/1.0\r\nAccept: application/vnd.flynn.rpc-hijack+gob\r\n\r\n";
    public static final String JSON_CONNECT = "CONNECT /_goRPC_ HTTP/1.0\r\nAccept: application/vnd.flynn.rpc-hijack+json\r\n\r\n";

    public final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public WireClient(int port) throws IOException {
        this(port, 0);
    }

    /** @param receiveBuffer the socket receive buffer in bytes, 0 for the default */
    public WireClient(int port, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(5000);
        in = new java.io.BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Connects and upgrades with the given codec; asserts the exact 200 answer. */
    public static WireClient rpc(int port, boolean json) throws IOException {
        WireClient c = new WireClient(port);
        c.write(json ? JSON_CONNECT : GOB_CONNECT);
        assertArrayEquals(CONNECTED, c.readExactly(CONNECTED.length));
        return c;
    }

    public void write(byte[] b) throws IOException {
        out.write(b);
        out.flush();
    }

    public void write(String s) throws IOException {
        write(s.getBytes(StandardCharsets.UTF_8));
    }

    public byte[] readExactly(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        assertEquals(n, b.length, "connection closed early");
        return b;
    }

    /** Reads one byte (blocking up to the timeout); -1 at end of stream. */
    public int read() throws IOException {
        return in.read();
    }

    /** Reads some bytes; -1 at end of stream. */
    public int read(byte[] buf) throws IOException {
        return in.read(buf);
    }

    /** Reads up to and excluding the next LF, as UTF-8; {@code null} at end of stream. */
    public String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
            }
            if (b == '\n') {
                return line.toString(StandardCharsets.UTF_8);
            }
            line.write(b);
        }
    }

    /** Reads everything until the peer closes; fails on timeout. */
    public byte[] readToEnd() throws IOException {
        return in.readAllBytes();
    }

    /** Whether the peer closed (EOF or reset) within the read timeout, discarding any data first. */
    public boolean closedByPeer() throws IOException {
        byte[] buf = new byte[65536];
        try {
            while (true) {
                if (in.read(buf) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // connection reset
        }
    }

    public void setTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
