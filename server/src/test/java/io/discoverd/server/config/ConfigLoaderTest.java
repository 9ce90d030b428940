package io.discoverd.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    private static final Set<String> BACKENDS = Set.of("zookeeper", "memory");

    private static DaemonConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, "test.yaml", null, Map.of(), BACKENDS);
    }

    @Test
    void emptyFile_givesAllDefaults() throws Exception {
        DaemonConfig c = parse("");
        assertEquals(new BindAddress("", 1111), c.bind());
        assertEquals("0.0.0.0", c.bind().listenHost());
        assertEquals("", c.externalIp());
        assertEquals("zookeeper", c.backend());
        assertEquals(Duration.ofSeconds(10), c.registrationTtl());
        assertEquals(Path.of("data", "1111"), c.dataDir());
        assertEquals(1048576, c.maxMessageBytes());
        assertEquals(65536, c.maxAttrsBytes());
        assertEquals(8 << 20, c.subscriberQueueBytes());
        assertEquals(NetTransport.AUTO, c.transport());
        assertEquals(Runtime.getRuntime().availableProcessors(), c.eventLoops());
        assertTrue(c.backendConfig().isEmpty());
    }

    @Test
    void missingDefaultFile_givesDefaults_butMissingNamedFileFails(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("nope.yaml");
        assertEquals("zookeeper", ConfigLoader.load(missing, false, null, Map.of(), BACKENDS).backend());
        var e = assertThrows(ConfigException.class, () -> ConfigLoader.load(missing, true, null, Map.of(), BACKENDS));
        assertTrue(e.getMessage().contains("nope.yaml"), e.getMessage());
    }

    @Test
    void shippedConfFile_isValidAndUsesEmbeddedZooKeeper() throws Exception {
        // The shipped file has a section for each backend the daemon ships with (etcd too).
        DaemonConfig c = ConfigLoader.load(Path.of("..", "conf", "discoverd.yaml"), true, null, Map.of(),
                Set.of("zookeeper", "etcd", "memory"));
        assertEquals("zookeeper", c.backend());
        assertEquals(1111, c.bind().port());
        assertEquals("embedded", c.backendConfig().getString("connect"));
        assertEquals(NetTransport.AUTO, c.transport());
    }

    @Test
    void allFields_areRead_andTheBackendSectionPassesThroughUntouched() throws Exception {
        DaemonConfig c = parse("""
                bind: "127.0.0.1:1112"
                externalIp: 10.0.0.1
                backend: memory
                registrationTtl: 1500ms
                dataDir: /tmp/x
                maxMessageBytes: 2048
                maxAttrsBytes: 100
                subscriberQueueBytes: 4096
                transport: IO_URING
                eventLoops: 3
                memory:
                  a: 1
                  nested: {b: [1, 2]}
                zookeeper:
                  connect: embedded
                """);
        assertEquals(new BindAddress("127.0.0.1", 1112), c.bind());
        assertEquals("10.0.0.1", c.externalIp());
        assertEquals(Duration.ofMillis(1500), c.registrationTtl());
        assertEquals(Path.of("/tmp/x"), c.dataDir());
        assertEquals(2048, c.maxMessageBytes());
        assertEquals(100, c.maxAttrsBytes());
        assertEquals(4096, c.subscriberQueueBytes());
        assertEquals(NetTransport.IO_URING, c.transport());
        assertEquals(3, c.eventLoops());
        assertEquals(1, c.backendConfig().getInteger("a"));
        assertEquals(2, c.backendConfig().getJsonObject("nested").getJsonArray("b").getInteger(1));
        assertEquals(2, c.backendConfig().size(), "only the selected backend's section");
    }

    @Test
    void bindFlag_overridesFile_andTheDefaultDataDirFollowsItsPort() throws Exception {
        DaemonConfig c = ConfigLoader.parse("bind: \":1111\"\n", "t", "127.0.0.1:1112", Map.of(), BACKENDS);
        assertEquals(new BindAddress("127.0.0.1", 1112), c.bind());
        assertEquals(Path.of("data", "1112"), c.dataDir());
    }

    @Test
    void externalIpEnvironment_overridesFile() throws Exception {
        DaemonConfig c = ConfigLoader.parse("externalIp: 10.0.0.1\n", "t", null, Map.of("EXTERNAL_IP", "192.168.1.9"), BACKENDS);
        assertEquals("192.168.1.9", c.externalIp());
        DaemonConfig unset = ConfigLoader.parse("externalIp: 10.0.0.1\n", "t", null, Map.of("EXTERNAL_IP", ""), BACKENDS);
        assertEquals("10.0.0.1", unset.externalIp());
    }

    @Test
    void unknownTopLevelField_isAnErrorNamingIt() {
        var e = assertThrows(ConfigException.class, () -> parse("bnid: \":1\"\n"));
        assertTrue(e.getMessage().startsWith("test.yaml: bnid: unknown field"), e.getMessage());
    }

    @Test
    void invalidValues_areErrorsNamingTheField() {
        assertMessageNames("maxMessageBytes", "maxMessageBytes: -1\n");
        assertMessageNames("maxAttrsBytes", "maxAttrsBytes: lots\n");
        assertMessageNames("subscriberQueueBytes", "subscriberQueueBytes: 99999999999\n");
        assertMessageNames("registrationTtl", "registrationTtl: soon\n");
        assertMessageNames("registrationTtl", "registrationTtl: 0s\n");
        assertMessageNames("bind", "bind: nocolon\n");
        assertMessageNames("bind", "bind: \"x:70000\"\n");
        assertMessageNames("backend", "backend: etcd\n");
        assertMessageNames("memory", "backend: memory\nmemory: 3\n");
        assertMessageNames("dataDir", "dataDir: \"\"\n");
        assertMessageNames("registrationTtl", "registrationTtl: 10\n");
        assertMessageNames("transport", "transport: kqueue\n");
        assertMessageNames("transport", "transport: [nio]\n");
        assertMessageNames("eventLoops", "eventLoops: 0\n");
        assertMessageNames("eventLoops", "eventLoops: -2\n");
        assertMessageNames("eventLoops", "eventLoops: 1.5\n");
        assertMessageNames("eventLoops", "eventLoops: many\n");
        assertMessageNames("eventLoops", "eventLoops: 1025\n");
    }

    @Test
    void invalidBindFlag_isBlamedOnTheFlag_notOnTheFile() {
        var e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("", "test.yaml", "nope", Map.of(), BACKENDS));
        assertTrue(e.getMessage().startsWith("--bind:"), e.getMessage());
    }

    private static void assertMessageNames(String field, String yaml) {
        var e = assertThrows(ConfigException.class, () -> parse(yaml));
        assertTrue(e.getMessage().startsWith("test.yaml: " + field + ":"), e.getMessage());
    }

    @Test
    void malformedYaml_andDuplicateKeys_areErrors(@TempDir Path dir) throws Exception {
        assertThrows(ConfigException.class, () -> parse("bind: [\n"));
        var dup = assertThrows(ConfigException.class, () -> parse("backend: memory\nbackend: memory\n"));
        assertTrue(dup.getMessage().contains("backend"), dup.getMessage());
        var list = assertThrows(ConfigException.class, () -> parse("- a\n- b\n"));
        assertTrue(list.getMessage().contains("mapping"), list.getMessage());
        Path f = dir.resolve("d.yaml");
        Files.writeString(f, "maxAttrsBytes: 0\n");
        var fromFile = assertThrows(ConfigException.class, () -> ConfigLoader.load(f, true, null, Map.of(), BACKENDS));
        assertTrue(fromFile.getMessage().startsWith(f + ": maxAttrsBytes:"), fromFile.getMessage());
    }

    @Test
    void bindAddress_parsesTheForms() {
        assertEquals(new BindAddress("", 1111), BindAddress.parse("bind", ":1111"));
        assertEquals(new BindAddress("::1", 1), BindAddress.parse("bind", "[::1]:1"));
        assertEquals("[::1]:1", new BindAddress("::1", 1).toString());
        assertEquals(":1111", BindAddress.DEFAULT.toString());
    }
}
