package io.discoverd.protocol.gob;

import java.util.Arrays;

/**
 * The receiving half of a gob stream's framing (PROTOCOL.md §3.1, §3.9): buffers fed bytes and
 * yields complete messages, each as a {@link GobReader} over its payload.
 *
 * <p>The buffer is compacted rather than reallocated, so steady traffic allocates nothing. A length
 * prefix over {@code maxMessageBytes}, or a zero-length message, fails at once, before the payload
 * is buffered. Not thread-safe.
 */
public final class GobInput {

    private static final byte[] NO_BYTES = new byte[0];
    /** The buffer's first capacity, in bytes: a request with its type definitions; it doubles as needed. */
    private static final int INITIAL_BUFFER_BYTES = 512;

    private final int maxMessageBytes;
    /** Received bytes; empty until the first feed, so an idle connection holds no buffer. */
    private byte[] buf = NO_BYTES;
    private int start;
    private int end;
    /** Payload bounds of the current message, valid after {@link #nextMessage} returned true. */
    private int payloadStart;
    private int payloadEnd;
    private final GobReader reader = new GobReader();

    /** @param maxMessageBytes the largest payload accepted, in bytes */
    public GobInput(int maxMessageBytes) {
        if (maxMessageBytes < 1) {
            throw new IllegalArgumentException("maxMessageBytes must be positive");
        }
        this.maxMessageBytes = maxMessageBytes;
    }

    /** Appends received bytes (copied). */
    public void feed(byte[] data, int offset, int length) {
        if (end + length > buf.length) {
            if (start > 0) {
                System.arraycopy(buf, start, buf, 0, end - start);
                end -= start;
                payloadStart -= start;
                payloadEnd -= start;
                start = 0;
            }
            if (end + length > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(Math.max(buf.length * 2, INITIAL_BUFFER_BYTES), end + length));
            }
        }
        System.arraycopy(data, offset, buf, end, length);
        end += length;
    }

    /** Bytes buffered and not yet consumed. */
    public int buffered() {
        return end - start;
    }

    /**
     * Positions {@link #reader()} on the next complete message's payload, if one has arrived. The
     * message stays current until {@link #consume()}.
     *
     * @return whether a complete message is available
     * @throws GobException a malformed length prefix, a zero length, or a length over the limit
     */
    public boolean nextMessage() throws GobException {
        int avail = end - start;
        if (avail == 0) {
            return false;
        }
        int b = buf[start] & 0xff;
        long len;
        int prefix;
        if (b < 0x80) {
            len = b;
            prefix = 1;
        } else {
            int n = 256 - b;
            if (n > 8) {
                throw new GobException("gob: malformed message length");
            }
            if (avail < 1 + n) {
                return false;
            }
            len = 0;
            for (int i = 1; i <= n; i++) {
                len = (len << 8) | (buf[start + i] & 0xff);
            }
            prefix = 1 + n;
        }
        if (len == 0) {
            throw new GobException("gob: empty message");
        }
        if (len < 0 || len > maxMessageBytes) {
            throw new GobException("gob: message of " + Long.toUnsignedString(len) + " bytes exceeds the limit of "
                    + maxMessageBytes);
        }
        if (avail - prefix < len) {
            return false;
        }
        payloadStart = start + prefix;
        payloadEnd = payloadStart + (int) len;
        reader.reset(buf, payloadStart, payloadEnd);
        return true;
    }

    /** The reader over the current message's payload (valid until the next {@link #feed} or {@link #consume}). */
    public GobReader reader() {
        return reader;
    }

    /** Drops the current message. */
    public void consume() {
        start = payloadEnd;
        if (start == end) {
            start = 0;
            end = 0;
        }
        payloadStart = start;
        payloadEnd = start;
    }
}
