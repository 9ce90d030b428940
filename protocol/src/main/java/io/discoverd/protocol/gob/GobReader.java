package io.discoverd.protocol.gob;

import java.nio.charset.StandardCharsets;

/**
 * A cursor over one gob message's payload: the primitive decodings of PROTOCOL.md §3.2.
 *
 * <p>Reusable ({@link #reset}) so that decoding allocates nothing per byte. Every read checks the
 * bytes left and fails with {@link GobException}, never with an index exception. Not thread-safe.
 */
public final class GobReader {

    private byte[] buf = new byte[0];
    private int pos;
    private int limit;

    /** Points the cursor at {@code buf[from, to)}; the array is read, never copied or modified. */
    public void reset(byte[] buf, int from, int to) {
        this.buf = buf;
        this.pos = from;
        this.limit = to;
    }

    /** Bytes left before the end of the message. */
    public int remaining() {
        return limit - pos;
    }

    /** Reads an unsigned integer; the result is an unsigned 64-bit value held in a {@code long}. */
    public long readUint() throws GobException {
        if (pos >= limit) {
            throw new GobException("gob: unexpected end of message reading uint");
        }
        int b = buf[pos++] & 0xff;
        if (b < 0x80) {
            return b;
        }
        int n = 256 - b;
        if (n > 8) {
            throw new GobException("gob: encoded unsigned integer out of range");
        }
        if (limit - pos < n) {
            throw new GobException("gob: unexpected end of message reading uint");
        }
        long v = 0;
        for (int i = 0; i < n; i++) {
            v = (v << 8) | (buf[pos++] & 0xff);
        }
        return v;
    }

    /** Reads a signed integer (bit 0 of the uint says "complement", PROTOCOL.md §3.2). */
    public long readInt() throws GobException {
        long u = readUint();
        return (u & 1) != 0 ? ~(u >>> 1) : (u >>> 1);
    }

    /** Reads a signed integer that must fit in an {@code int} (type ids, field numbers). */
    public int readSmallInt() throws GobException {
        long v = readInt();
        if (v < Integer.MIN_VALUE + 1 || v > Integer.MAX_VALUE) {
            throw new GobException("gob: type id out of range");
        }
        return (int) v;
    }

    /** Reads a count (string length, map or slice size) that cannot exceed the bytes left. */
    public int readCount() throws GobException {
        long n = readUint();
        if (n < 0 || n > remaining()) {
            throw new GobException("gob: count " + Long.toUnsignedString(n) + " larger than the bytes left ("
                    + remaining() + ")");
        }
        return (int) n;
    }

    /** Reads a bool (any non-zero uint is true, as in Go). */
    public boolean readBool() throws GobException {
        return readUint() != 0;
    }

    /** Reads a string; invalid UTF-8 becomes U+FFFD. */
    public String readString() throws GobException {
        int n = readCount();
        String s = ascii(n) ? new String(buf, pos, n, StandardCharsets.ISO_8859_1) : new String(buf, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    private boolean ascii(int n) {
        for (int i = pos, end = pos + n; i < end; i++) {
            if (buf[i] < 0) {
                return false;
            }
        }
        return true;
    }

    /** Reads a byte slice. */
    public byte[] readBytes() throws GobException {
        int n = readCount();
        byte[] out = new byte[n];
        System.arraycopy(buf, pos, out, 0, n);
        pos += n;
        return out;
    }

    /** Skips a length-prefixed byte sequence (string, []byte, marshaler kinds). */
    public void skipCounted() throws GobException {
        int n = readCount();
        pos += n;
    }
}
