package io.discoverd.protocol.gob;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable byte buffer with the primitive gob encodings of PROTOCOL.md §3.2.
 *
 * <p>Reusable ({@link #clear}) so that encoding allocates only when it grows. Not thread-safe.
 */
public final class GobWriter {

    private byte[] buf;
    private int size;

    public GobWriter() {
        this(128);
    }

    /** @param initialCapacity initial capacity in bytes */
    public GobWriter(int initialCapacity) {
        buf = new byte[Math.max(16, initialCapacity)];
    }

    /** Forgets the content, keeping the capacity. */
    public void clear() {
        size = 0;
    }

    /** Number of bytes written. */
    public int size() {
        return size;
    }

    /** A copy of the bytes written. */
    public byte[] toByteArray() {
        return Arrays.copyOf(buf, size);
    }

    private void ensure(int more) {
        if (size + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
        }
    }

    /** Appends one raw byte. */
    public void writeByte(int b) {
        ensure(1);
        buf[size++] = (byte) b;
    }

    /** Appends raw bytes. */
    public void writeRaw(byte[] b, int off, int len) {
        ensure(len);
        System.arraycopy(b, off, buf, size, len);
        size += len;
    }

    /** Appends raw bytes. */
    public void writeRaw(byte[] b) {
        writeRaw(b, 0, b.length);
    }

    /** Appends another writer's content. */
    public void writeRaw(GobWriter other) {
        writeRaw(other.buf, 0, other.size);
    }

    /** Appends an unsigned integer ({@code v} is read as unsigned 64-bit). */
    public void writeUint(long v) {
        if (v >= 0 && v < 0x80) {
            writeByte((int) v);
            return;
        }
        int n = 8 - Long.numberOfLeadingZeros(v) / 8;
        ensure(n + 1);
        buf[size++] = (byte) -n;
        for (int i = n - 1; i >= 0; i--) {
            buf[size++] = (byte) (v >>> (8 * i));
        }
    }

    /** Appends a signed integer. */
    public void writeInt(long i) {
        writeUint(i < 0 ? (~i << 1) | 1 : i << 1);
    }

    /** Appends a bool. */
    public void writeBool(boolean b) {
        writeByte(b ? 1 : 0);
    }

    /** Appends a string as UTF-8 (unpaired surrogates become {@code ?}). */
    public void writeString(String s) {
        int n = s.length();
        boolean ascii = true;
        for (int i = 0; i < n; i++) {
            if (s.charAt(i) >= 0x80) {
                ascii = false;
                break;
            }
        }
        if (!ascii) {
            writeBytes(s.getBytes(StandardCharsets.UTF_8));
            return;
        }
        writeUint(n);
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[size++] = (byte) s.charAt(i);
        }
    }

    /** Appends a byte slice: its length, then the bytes. */
    public void writeBytes(byte[] b) {
        writeUint(b.length);
        writeRaw(b, 0, b.length);
    }

    /** Appends one framed message: {@code uint(payload.size())} then the payload (PROTOCOL.md §3.1). */
    public void writeMessage(GobWriter payload) {
        writeUint(payload.size);
        writeRaw(payload);
    }
}
