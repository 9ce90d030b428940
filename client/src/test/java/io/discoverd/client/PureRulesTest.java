package io.discoverd.client;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Address parsing, reconciliation, filters, leader, backoff: the client's pure rules. */
class PureRulesTest {

    private static ServiceInstance inst(String addr, long created, Map<String, String> attrs) {
        return new ServiceInstance("svc", addr, attrs, created, true);
    }

    private static Map<String, ServiceInstance> byAddr(ServiceInstance... is) {
        Map<String, ServiceInstance> m = new HashMap<>();
        for (ServiceInstance i : is) {
            m.put(i.addr(), i);
        }
        return m;
    }

    @Test
    void daemonAddress_parse() {
        assertEquals(new DaemonAddress("10.0.0.1", 1111), DaemonAddress.parse("10.0.0.1:1111"));
        assertEquals(new DaemonAddress("10.0.0.1", 1111), DaemonAddress.parse("tcp://10.0.0.1:1111"));
        assertEquals(new DaemonAddress("discoverd.local", 80), DaemonAddress.parse(" discoverd.local:80 "));
        assertEquals(new DaemonAddress("::1", 1111), DaemonAddress.parse("[::1]:1111"));
        assertEquals("[::1]:1111", DaemonAddress.parse("[::1]:1111").toString());
        for (String bad : new String[] {"", "host", ":1111", "host:", "host:x", "host:0", "host:65536", "tcp://"}) {
            assertThrows(IllegalArgumentException.class, () -> DaemonAddress.parse(bad), bad);
        }
    }

    @Test
    void daemonAddress_environment() {
        assertEquals(new DaemonAddress("127.0.0.1", 1111), DaemonAddress.fromEnvironment(Map.of()));
        assertEquals(new DaemonAddress("127.0.0.1", 1111), DaemonAddress.fromEnvironment(Map.of("DISCOVERD", "")));
        assertEquals(new DaemonAddress("10.1.2.3", 1112), DaemonAddress.fromEnvironment(Map.of("DISCOVERD", "tcp://10.1.2.3:1112")));
        assertThrows(IllegalArgumentException.class, () -> DaemonAddress.fromEnvironment(Map.of("DISCOVERD", "nonsense")));
    }

    @Test
    void builder_daemonAddress_flagThenEnvironmentThenDefault_withoutConnecting() {
        assertEquals("127.0.0.1:1111", DiscoverdClient.builder().environment(Map.of()).daemonAddress());
        assertEquals("10.1.2.3:1112", DiscoverdClient.builder().environment(Map.of("DISCOVERD", "tcp://10.1.2.3:1112")).daemonAddress());
        assertEquals("[::1]:9", DiscoverdClient.builder().environment(Map.of("DISCOVERD", "10.1.2.3:1112")).address("[::1]:9").daemonAddress());
        assertThrows(IllegalArgumentException.class, () -> DiscoverdClient.builder().address("nonsense").daemonAddress());
    }

    @Test
    void instance_hostPortAndMatching() {
        ServiceInstance i = inst("127.0.0.1:8080", 1, Map.of("foo", "qux", "id", "2"));
        assertEquals("127.0.0.1", i.host());
        assertEquals("8080", i.port());
        assertEquals("::1", inst("[::1]:80", 1, null).host());
        assertEquals("80", inst("[::1]:80", 1, null).port());
        assertEquals("127.0.0.1", inst("127.0.0.1", 1, null).host());
        assertEquals("", inst("127.0.0.1", 1, null).port());
        assertTrue(i.matches(Map.of()));
        assertTrue(i.matches(null));
        assertTrue(i.matches(Map.of("foo", "qux")));
        assertFalse(i.matches(Map.of("foo", "baz")));
        assertTrue(i.matches(Map.of("absent", ""))); // Go: a missing key reads as ""
        assertEquals(Map.of(), inst("a:1", 1, null).attrs());
    }

    @Test
    void reconcile_reportsOnlyDifferences() {
        Map<String, ServiceInstance> held = byAddr(inst("a:1", 1, null), inst("b:1", 2, Map.of("k", "v")),
                inst("c:1", 3, null), inst("d:1", 4, null));
        Map<String, ServiceInstance> fresh = byAddr(inst("a:1", 1, null),   // unchanged
                inst("b:1", 2, Map.of("k", "w")),                              // attrs changed
                inst("d:1", 9, null),                                          // re-created
                inst("e:1", 10, null));                                        // new; c vanished
        List<Change> diff = Change.reconcile(held, fresh);
        assertEquals(4, diff.size());
        assertEquals("c:1", diff.get(0).before().addr());
        assertNull(diff.get(0).after());
        assertEquals(List.of("b:1", "d:1", "e:1"), diff.subList(1, 4).stream().map(c -> c.after().addr()).toList());
        assertEquals(2, diff.get(1).before().created());
        assertNull(diff.get(3).before());
        assertTrue(Change.reconcile(fresh, fresh).isEmpty());
        assertEquals(3, Change.reconcile(Map.of(), byAddr(inst("a:1", 1, null), inst("b:1", 2, null), inst("c:1", 3, null))).size());
    }

    @Test
    void filter_eventFor() {
        Map<String, String> f = Map.of("foo", "qux");
        ServiceInstance in = inst("a:1", 1, Map.of("foo", "qux"));
        ServiceInstance out = inst("a:1", 1, Map.of("foo", "baz"));
        assertEquals(in, new Change(null, in).eventFor(f));
        assertNull(new Change(null, out).eventFor(f));
        ServiceInstance gone = new Change(in, null).eventFor(f);
        assertFalse(gone.online());
        assertEquals(Map.of("foo", "qux"), gone.attrs()); // the original dropped this (no attrs on offline)
        assertFalse(new Change(in, out).eventFor(f).online());  // stopped matching: leaves the view
        assertTrue(new Change(out, in).eventFor(f).online());   // started matching: joins it
        assertNull(new Change(out, null).eventFor(f));
    }

    @Test
    void leader_smallestCreated_unsigned() {
        List<ServiceInstance> l = List.of(inst("b:1", 5, Map.of("r", "x")), inst("a:1", 7, null), inst("c:1", -1L, null));
        assertEquals("b:1", Change.leader(l, Map.of()).orElseThrow().addr()); // -1 is 2^64-1 unsigned
        assertEquals("b:1", Change.leader(l, Map.of("r", "x")).orElseThrow().addr());
        assertEquals(Optional.empty(), Change.leader(List.of(), Map.of()));
        assertTrue(Change.sameLeader(Optional.empty(), Optional.empty()));
        assertFalse(Change.sameLeader(Optional.of(l.get(0)), Optional.empty()));
        assertFalse(Change.sameLeader(Optional.of(l.get(0)), Optional.of(inst("b:1", 6, null))));
        assertTrue(Change.sameLeader(Optional.of(l.get(0)), Optional.of(inst("b:1", 5, Map.of("other", "attrs")))));
        assertEquals(List.of("b:1", "a:1", "c:1"), l.stream().sorted(ServiceInstance.BY_CREATED).map(ServiceInstance::addr).toList());
    }

    @Test
    void backoff_bounds() {
        for (int i = 0; i < 1000; i++) {
            long d0 = Backoff.reconnectDelayMillis(0, 100, 2000);
            assertTrue(d0 >= 50 && d0 <= 100, "attempt 0: " + d0);
            long d3 = Backoff.reconnectDelayMillis(3, 100, 2000);
            assertTrue(d3 >= 400 && d3 <= 800, "attempt 3: " + d3);
            long d30 = Backoff.reconnectDelayMillis(30, 100, 2000);
            assertTrue(d30 >= 1000 && d30 <= 2000, "attempt 30: " + d30);
            long hb = Backoff.heartbeatDelayMillis(5000);
            assertTrue(hb >= 4500 && hb <= 5000, "heartbeat: " + hb);
        }
        assertEquals(1, Backoff.heartbeatDelayMillis(1));
    }
}
