package io.discoverd.protocol;

import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link ServiceUpdate} ready to be sent on many streams: its body is encoded at most once per
 * {@link BodyEncoding} (one for gob, one for JSON) and those bytes are reused for every frame that
 * carries it, on every connection; only the per-stream header is encoded per frame
 * (ARCHITECTURE.md, "Threading"). A change fanned out to 10,000 subscribers is thus encoded once
 * per codec in use, not 10,000 times.
 *
 * <p>Thread-safe: listeners prepare updates on backend threads and sessions encode them on their
 * event loops. The first encoding in a given {@link BodyEncoding} runs under this object's lock
 * (a pure computation, never I/O), so concurrent first uses wait for it instead of repeating it;
 * later uses read a published, never-modified array without locking.
 */
public final class PreparedUpdate {

    /**
     * One codec's encoding of a {@link ServiceUpdate} body, for instance gob with the process-wide
     * fixed type ids, or the JSON {@code result} value.
     *
     * <p>Implementations are values: two equal encodings must produce equal bytes for the same
     * update, since a body encoded by one is reused for the other. Must be thread-safe and stateless.
     */
    public interface BodyEncoding {

        /**
         * Encodes one body.
         *
         * @param update the update, never {@code null}
         * @return a new array, owned by the caller (it becomes shared and is never modified)
         */
        byte[] encode(ServiceUpdate update);
    }

    /** The sentinel (PROTOCOL.md §5.5.1), prepared once for the whole process. */
    public static final PreparedUpdate SENTINEL = new PreparedUpdate(ServiceUpdate.SENTINEL);

    /** Bodies encoded process-wide, for tests and diagnostics. */
    private static final LongAdder ENCODED = new LongAdder();

    private final ServiceUpdate update;
    /** The bodies encoded so far, newest first; immutable nodes, replaced under the lock. */
    private volatile Body bodies;

    private record Body(BodyEncoding encoding, byte[] bytes, Body next) {
    }

    /** @param update the update, not {@code null} */
    public PreparedUpdate(ServiceUpdate update) {
        this.update = Objects.requireNonNull(update, "update");
    }

    /** The update. */
    public ServiceUpdate update() {
        return update;
    }

    /**
     * The body in {@code encoding}, encoded on the first call for that encoding (or an equal one)
     * and shared afterwards.
     *
     * @param encoding the codec's body encoding, not {@code null}
     * @return the encoded body, shared by every caller: must not be modified
     * @throws RuntimeException whatever {@code encoding} throws; nothing is cached then
     */
    public byte[] body(BodyEncoding encoding) {
        byte[] found = find(bodies, encoding);
        return found != null ? found : encodeOnce(encoding);
    }

    private synchronized byte[] encodeOnce(BodyEncoding encoding) {
        Body head = bodies;
        byte[] found = find(head, encoding);
        if (found != null) {
            return found;
        }
        byte[] bytes = encoding.encode(update);
        ENCODED.increment();
        bodies = new Body(encoding, bytes, head);
        return bytes;
    }

    private static byte[] find(Body b, BodyEncoding encoding) {
        for (; b != null; b = b.next) {
            if (b.encoding == encoding || b.encoding.equals(encoding)) {
                return b.bytes;
            }
        }
        return null;
    }

    /**
     * How many bodies all prepared updates of this process have encoded so far, in any encoding:
     * a fan-out to any number of subscribers adds one per codec in use.
     */
    public static long bodiesEncoded() {
        return ENCODED.sum();
    }

    @Override
    public String toString() {
        return "PreparedUpdate" + update;
    }
}
