package io.discoverd.it.outage;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.it.json.JsonRpcClient;
import io.discoverd.it.json.JsonRpcClient.Msg;
import java.time.Duration;

/**
 * The register loops the store outage tests share: from outside, the only sign that the daemon has
 * noticed the store leaving or coming back is how it answers a registration.
 */
final class Outages {

    private Outages() {
    }

    /** What a test does after a registration accepted before the daemon noticed the outage was unregistered. */
    interface Undone {
        void after(String acceptedAddr) throws InterruptedException;
    }

    /**
     * Registers until the daemon refuses, failing after {@code wait}. A registration accepted
     * meanwhile (a call in flight when the store went away may succeed or take the client
     * library's timeout) is unregistered, then handed to {@code undone}.
     */
    static void awaitFirstRefusal(JsonRpcClient c, String name, String addr, Duration wait, Undone undone) throws Exception {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            Msg m = c.call("Agent.Register", JsonRpcClient.args(name, addr, null));
            if (m.error() != null) {
                return;
            }
            // Accepted before the daemon noticed the outage: undo and try again.
            assertTrue(System.nanoTime() < deadline, "the daemon never noticed the outage");
            c.unregister(name, addr);
            undone.after(m.result().asText());
            Thread.sleep(100); // re-check interval while the client library notices the dead server
        }
    }

    /** Registers until the daemon accepts again (it reconnects to the store on its own) or {@code wait} has passed; returns the last answer. */
    static Msg awaitAccepted(JsonRpcClient c, String name, String addr, Duration wait) throws Exception {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            Msg m = c.call("Agent.Register", JsonRpcClient.args(name, addr, null));
            if (m.error() == null || System.nanoTime() > deadline) {
                return m;
            }
            Thread.sleep(200); // waiting for the daemon's reconnection: no event to await from outside
        }
    }
}
