package io.discoverd.server.testing;

import io.discoverd.protocol.gob.GobException;
import io.discoverd.protocol.gob.GobInput;
import io.discoverd.protocol.gob.GobReader;
import io.discoverd.protocol.gob.GobTypeRegistry;
import io.discoverd.protocol.gob.GobValues;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes one direction of a gob stream with the protocol module's gob classes: definitions are
 * recorded, value messages returned ({@link GobValues.Struct}, {@link String}, ...).
 */
public final class GobStream {

    private final GobInput input = new GobInput(1 << 24);
    private final GobTypeRegistry types = new GobTypeRegistry(4096);

    /** Feeds bytes and returns the values of every complete message. */
    public List<Object> feed(byte[] bytes) throws GobException {
        input.feed(bytes, 0, bytes.length);
        List<Object> values = new ArrayList<>();
        while (input.nextMessage()) {
            GobReader r = input.reader();
            int id = (int) r.readInt();
            if (id < 0) {
                types.readDefinition(-id, r);
            } else {
                values.add(GobValues.decodeTopLevel(types, id, r));
            }
            input.consume();
        }
        return values;
    }

    /** Reads from the client until {@code n} values have arrived. */
    public List<Object> readValues(WireClient client, int n) throws IOException, GobException {
        List<Object> values = new ArrayList<>();
        byte[] buf = new byte[1];
        while (values.size() < n) {
            int b = client.read();
            if (b < 0) {
                throw new IOException("connection closed after " + values.size() + " of " + n + " values");
            }
            buf[0] = (byte) b;
            values.addAll(feed(buf));
        }
        return values;
    }
}
