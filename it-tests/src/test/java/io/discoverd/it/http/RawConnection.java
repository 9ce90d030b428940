package io.discoverd.it.http;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A plain TCP connection to a daemon on 127.0.0.1 for byte-exact tests: writes exactly what it is
 * given (one {@code write} call per {@link #write} and TCP_NODELAY, so segmentation follows the
 * test) and reads with deadlines.
 *
 * <p>Not thread-safe: one reader thread and one writer thread at most.
 */
public final class RawConnection implements AutoCloseable {

    /** The 34-byte upgrade answer (PROTOCOL.md §1.3). */
    public static final byte[] CONNECTED = "HTTP/1.0 200 Connected to Go RPC\n\n".getBytes(StandardCharsets.US_ASCII);
    /** The Accept value selecting gob (PROTOCOL.md §1.4). */
    public static final String GOB = "application/vnd.flynn.rpc-hijack+gob";
    /** The Accept value selecting JSON (PROTOCOL.md §1.4). */
    public static final String JSON = "application/vnd.flynn.rpc-hijack+json";

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Connects to {@code 127.0.0.1:port} with TCP_NODELAY. */
    public static RawConnection open(int port) throws IOException {
        return open(port, -1);
    }

    /**
     * Connects to {@code 127.0.0.1:port}.
     *
     * @param receiveBufferBytes the socket receive buffer in bytes, set before connecting; -1 for
     *                           the system default
     */
    public static RawConnection open(int port, int receiveBufferBytes) throws IOException {
        Socket s = new Socket();
        if (receiveBufferBytes > 0) {
            s.setReceiveBufferSize(receiveBufferBytes);
        }
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        return new RawConnection(s);
    }

    /**
     * Connects and upgrades: sends the CONNECT request of PROTOCOL.md §1.2 in one write and asserts
     * the exact 34-byte answer.
     *
     * @param accept the Accept header value, or null for no Accept header
     */
    public static RawConnection upgraded(int port, String accept) throws IOException {
        RawConnection c = open(port);
        c.write(connectRequest(accept));
        c.expectConnected();
        return c;
    }

    /** The CONNECT request bytes; {@code accept} null means no Accept header. */
    public static byte[] connectRequest(String accept) {
        String head = "CONNECT /_goRPC_ HTTP/1.0\r\n" + (accept == null ? "" : "Accept: " + accept + "\r\n") + "\r\n";
        return head.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Reads 34 bytes and fails unless they are exactly the 200 answer. */
    public void expectConnected() throws IOException {
        byte[] got = readExactly(CONNECTED.length, Duration.ofSeconds(10));
        if (!Arrays.equals(CONNECTED, got)) {
            throw new AssertionError("expected the 200 upgrade answer, got: "
                    + new String(got, StandardCharsets.ISO_8859_1).replace("\r", "\\r").replace("\n", "\\n"));
        }
    }

    /** Writes the bytes in one write call and flushes. */
    public void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Writes the UTF-8 bytes of the text in one write call. */
    public void write(String text) throws IOException {
        write(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The raw input stream (blocking, no deadline; see {@link #setReadTimeout}). */
    public InputStream input() {
        return in;
    }

    /** Sets the socket read timeout used by {@link #input()} reads, in ms (0 = none). */
    public void setReadTimeout(Duration timeout) throws SocketException {
        socket.setSoTimeout((int) timeout.toMillis());
    }

    /**
     * Reads exactly {@code n} bytes.
     *
     * @throws SocketTimeoutException if they do not arrive within the timeout
     * @throws EOFException if the connection closes first
     */
    public byte[] readExactly(int n, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] buf = new byte[n];
        int off = 0;
        while (off < n) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new SocketTimeoutException("read " + off + " of " + n + " bytes within " + timeout);
            }
            socket.setSoTimeout((int) Math.max(1, left));
            int r = in.read(buf, off, n - off);
            if (r < 0) {
                throw new EOFException("connection closed after " + off + " of " + n + " bytes");
            }
            off += r;
        }
        return buf;
    }

    /**
     * Reads and discards until the peer closes the connection (EOF or reset).
     *
     * @return true if it closed within the timeout, false if it was still open
     */
    public boolean awaitClosed(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] buf = new byte[65536];
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            try {
                socket.setSoTimeout((int) Math.max(1, left));
                if (in.read(buf) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                return false;
            } catch (SocketException e) {
                return true; // reset by the peer: closed as well
            }
        }
    }

    /**
     * An HTTP answer read from the connection.
     *
     * @param statusLine the first line without its line end
     * @param headers    header names lower-cased, first occurrence wins
     * @param body       the body: Content-Length bytes, or everything up to the close
     */
    public record HttpAnswer(String statusLine, Map<String, String> headers, byte[] body) {

        /** The status code of the status line. */
        public int status() {
            return Integer.parseInt(statusLine.split(" ")[1]);
        }

        /** The body as UTF-8 text. */
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** Reads one HTTP/1.x answer: status line, headers, then the body. */
    public HttpAnswer readHttpAnswer(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String status = readLine(deadline);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line = readLine(deadline); !line.isEmpty(); line = readLine(deadline)) {
            int colon = line.indexOf(':');
            headers.putIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        byte[] body;
        String length = headers.get("content-length");
        if (length != null) {
            body = readExactly(Integer.parseInt(length), Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        } else {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            while (true) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new SocketTimeoutException("no Content-Length and no close within " + timeout);
                }
                socket.setSoTimeout((int) Math.max(1, left));
                int r = in.read(buf);
                if (r < 0) {
                    break;
                }
                all.write(buf, 0, r);
            }
            body = all.toByteArray();
        }
        return new HttpAnswer(status, headers, body);
    }

    private String readLine(long deadline) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new SocketTimeoutException("no complete line before the deadline: " + line);
            }
            socket.setSoTimeout((int) Math.max(1, left));
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed inside a line: " + line);
            }
            if (b == '\n') {
                String s = line.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            line.write(b);
        }
    }

    /** Closes with a reset (SO_LINGER 0), as a client that vanishes does. */
    public void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
