package io.discoverd.server.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.discoverd.backend.DiscoveryException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentTest {

    @Test
    void expandAddr_portOnly_getsExternalIp() {
        assertEquals("127.0.0.1:8080", Agent.expandAddr(":8080", "127.0.0.1"));
    }

    @Test
    void expandAddr_fullOrPortless_isKeptAsGiven() {
        assertEquals("10.0.0.2:8080", Agent.expandAddr("10.0.0.2:8080", "127.0.0.1"));
        assertEquals("127.0.0.1", Agent.expandAddr("127.0.0.1", ""));
    }

    @Test
    void expandAddr_empty_mustBeSet() {
        var e = assertThrows(DiscoveryException.class, () -> Agent.expandAddr("", "127.0.0.1"));
        assertEquals("discoverd: Addr must be set", e.getMessage());
    }

    @Test
    void expandAddr_portOnlyWithoutExternalIp_fails() {
        var e = assertThrows(DiscoveryException.class, () -> Agent.expandAddr(":8080", ""));
        assertEquals("discoverd: Addr must have address or EXTERNAL_IP must be set", e.getMessage());
    }

    @Test
    void attrsBytes_countsUtf8OfKeysAndValues() {
        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put("k", "é"); // 1 + 2
        attrs.put("ab", ""); // 2 + 0
        assertEquals(5, Agent.attrsBytes(attrs));
        assertEquals(0, Agent.attrsBytes(null));
    }
}
