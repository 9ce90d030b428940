package io.discoverd.it.externalip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.EachBackend;
import io.discoverd.it.TestStore;
import io.discoverd.it.json.JsonRpcClient;
import io.discoverd.it.json.JsonRpcClient.Msg;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;

/** A daemon started without {@code EXTERNAL_IP} and without {@code externalIp} (PROTOCOL.md §5.2). */
@EachBackend
class NoExternalIpTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    @TempDir
    Path dir;

    @Test
    @DisplayName("#25 EXTERNAL_IP unset: a port-only Addr is refused with the original's text, a full Addr works; "
            + "#24 an address without a port is kept as given")
    void portOnlyAddr_isRefused_fullAddr_works() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("EXTERNAL_IP", null);
        try (TestStore store = backend.startStore();
             DaemonProcess daemon = DaemonProcess.start(dir.resolve("d"), store.daemonConfig(dir.resolve("data"), ""),
                     env, "127.0.0.1:0");
             JsonRpcClient c = JsonRpcClient.connect(daemon.port())) {
            Msg refused = c.call("Agent.Register", JsonRpcClient.args("web", ":8080", null));
            assertEquals("discoverd: Addr must have address or EXTERNAL_IP must be set", refused.error(), refused.raw());
            Msg unreg = c.call("Agent.Unregister", JsonRpcClient.args("web", ":8080", null));
            assertEquals("discoverd: Addr must have address or EXTERNAL_IP must be set", unreg.error(), unreg.raw());
            Msg ok = c.call("Agent.Register", JsonRpcClient.args("web", "10.0.0.1:1", null));
            assertNull(ok.error(), ok.raw());
            assertEquals("10.0.0.1:1", ok.result().asText());
            assertEquals("127.0.0.1", c.register("web", "127.0.0.1", null));
        }
    }
}
