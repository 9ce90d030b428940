package io.discoverd.bench.codec;

import io.discoverd.protocol.Args;
import io.discoverd.protocol.PreparedUpdate;
import io.discoverd.protocol.ServiceUpdate;
import io.discoverd.protocol.rpc.RpcRequest;
import java.util.Map;
import java.util.Objects;

/**
 * The messages the codec benchmarks encode and decode: a registration and a subscriber's stream
 * item as a deployment sends them (a service name, an {@code ip:port} address, three attributes),
 * and the checks that make a benchmark fail at setup when its codec did not round-trip them.
 */
final class Samples {

    /** Request numbers as they would be a little way into a connection (a one-byte gob uint either way). */
    static final long REGISTER_SEQ = 41;
    static final long SUBSCRIBE_SEQ = 3;

    static final Map<String, String> ATTRS = Map.of("role", "primary", "zone", "eu-west-1a", "version", "2.4.1");

    /** The body of an {@code Agent.Register} request. */
    static final Args REGISTER = new Args("web", "10.0.3.17:8080", ATTRS);

    /** A subscriber's stream item for that registration; {@code Created} is a store revision. */
    static final ServiceUpdate UPDATE = ServiceUpdate.online("web", "10.0.3.17:8080", ATTRS, 48_213);
    /** {@link #UPDATE} shared by every subscriber of a change, its bodies encoded once per codec. */
    static final PreparedUpdate PREPARED = new PreparedUpdate(UPDATE);

    /**
     * The register request as a Go JSON-RPC client writes it (PROTOCOL.md §4.2: one object per line,
     * members in Go's order), in UTF-8.
     */
    static final String REGISTER_JSON = "{\"method\":\"Agent.Register\",\"params\":[{\"Name\":\"web\",\"Addr\":\"10.0.3.17:8080\","
            + "\"Attrs\":{\"role\":\"primary\",\"version\":\"2.4.1\",\"zone\":\"eu-west-1a\"}}],\"id\":" + REGISTER_SEQ + "}\n";

    private Samples() {
    }

    /** A decoded request: the method, the JSON id (or {@code null} for gob) and the body must be what was sent. */
    static void expectRegister(RpcRequest got, String jsonId) {
        expect("Agent.Register", got == null ? null : got.serviceMethod(), "method of the decoded request " + got);
        expect(jsonId, got.id(), "id of the decoded request");
        if (jsonId == null) {
            expect(REGISTER_SEQ, got.seq(), "seq of the decoded request");
        }
        expect(null, got.argsError(), "argsError of the decoded request");
        expect(REGISTER, got.args(), "Args of the decoded request");
    }

    /** Throws when {@code got} differs from {@code expected}: a benchmark of a broken codec must not run. */
    static void expect(Object expected, Object got, String what) {
        if (!Objects.equals(expected, got)) {
            throw new IllegalStateException("codec benchmark setup: " + what + " is " + got + ", expected " + expected);
        }
    }
}
