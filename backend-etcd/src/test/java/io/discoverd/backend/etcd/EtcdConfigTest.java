package io.discoverd.backend.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The {@code etcd} section of {@code conf/discoverd.yaml}: defaults and every refusal, no etcd needed. */
class EtcdConfigTest {

    @TempDir
    Path tmp;

    private static IllegalArgumentException refused(JsonObject section) {
        return assertThrows(IllegalArgumentException.class, () -> EtcdConfig.parse(section), "refused: " + section);
    }

    private static void refusedNaming(JsonObject section, String field) {
        String m = refused(section).getMessage();
        assertTrue(m.startsWith(field + ":") || m.startsWith(field + ","), "message names " + field + ": " + m);
    }

    @Test
    void defaults_whenAbsentOrEmpty() {
        for (JsonObject section : new JsonObject[] {null, new JsonObject()}) {
            EtcdConfig c = EtcdConfig.parse(section);
            assertEquals(List.of("http://127.0.0.1:2379"), c.endpoints());
            assertEquals("/discoverd", c.prefix());
            assertEquals(Duration.ofSeconds(5), c.connectTimeout());
            assertEquals(Duration.ofSeconds(5), c.requestTimeout());
            assertNull(c.user());
            assertNull(c.password());
            assertNull(c.tls());
            assertFalse(c.usesTls());
        }
    }

    @Test
    void endpoints_asYamlList_andAsCommaString_areTheSame() {
        EtcdConfig list = EtcdConfig.parse(new JsonObject().put("endpoints",
                new JsonArray().add("http://10.0.0.1:2379").add(" https://etcd.example:2380 ")));
        EtcdConfig comma = EtcdConfig.parse(new JsonObject().put("endpoints", "http://10.0.0.1:2379, https://etcd.example:2380"));
        assertEquals(List.of("http://10.0.0.1:2379", "https://etcd.example:2380"), list.endpoints());
        assertEquals(list.endpoints(), comma.endpoints());
        assertTrue(list.usesTls(), "an https endpoint means TLS");
        assertEquals(List.of("http://10.0.0.1:2379"),
                EtcdConfig.parse(new JsonObject().put("endpoints", "HTTP://10.0.0.1:2379/")).endpoints(),
                "scheme normalised, a bare trailing / accepted");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://[::1", "not a url", "10.0.0.1:2379", "ftp://10.0.0.1:2379", "unix:///run/etcd.sock",
            "http://10.0.0.1", "http://10.0.0.1:2379/v3", "http://10.0.0.1:2379/kv/range", "", " ", "http://10.0.0.1:2379,,http://10.0.0.2:2379"})
    void badEndpoint_isRefused_namingTheField(String endpoint) {
        refusedNaming(new JsonObject().put("endpoints", endpoint), "etcd.endpoints");
        refusedNaming(new JsonObject().put("endpoints", new JsonArray().add(endpoint)), "etcd.endpoints");
    }

    @Test
    void emptyList_orWrongType_isRefused_namingTheField() {
        refusedNaming(new JsonObject().put("endpoints", new JsonArray()), "etcd.endpoints");
        refusedNaming(new JsonObject().put("endpoints", 2379), "etcd.endpoints");
        refusedNaming(new JsonObject().put("endpoints", new JsonArray().add(2379)), "etcd.endpoints");
        refusedNaming(new JsonObject().put("endpoints", new JsonObject().put("a", "http://h:1")), "etcd.endpoints");
    }

    @Test
    void prefix_rules() {
        assertEquals("/a", EtcdConfig.parse(new JsonObject().put("prefix", "/a")).prefix());
        assertEquals("/team/discoverd", EtcdConfig.parse(new JsonObject().put("prefix", " /team/discoverd ")).prefix());
        for (String bad : new String[] {"", "/", "discoverd", "/discoverd/", "/a//b", "//"}) {
            refusedNaming(new JsonObject().put("prefix", bad), "etcd.prefix");
        }
        refusedNaming(new JsonObject().put("prefix", 7), "etcd.prefix");
    }

    @Test
    void durations_needUnits() {
        EtcdConfig c = EtcdConfig.parse(new JsonObject().put("requestTimeout", "1500ms").put("connectTimeout", "2s"));
        assertEquals(Duration.ofMillis(1500), c.requestTimeout());
        assertEquals(Duration.ofSeconds(2), c.connectTimeout());
        refusedNaming(new JsonObject().put("requestTimeout", 5), "etcd.requestTimeout");
        refusedNaming(new JsonObject().put("requestTimeout", "5"), "etcd.requestTimeout");
        refusedNaming(new JsonObject().put("requestTimeout", "0s"), "etcd.requestTimeout");
        refusedNaming(new JsonObject().put("connectTimeout", 5), "etcd.connectTimeout");
        refusedNaming(new JsonObject().put("connectTimeout", "five seconds"), "etcd.connectTimeout");
    }

    @Test
    void user_andPassword_comeTogether() {
        EtcdConfig c = EtcdConfig.parse(new JsonObject().put("user", "root").put("password", "s3cret!"));
        assertEquals("root", c.user());
        assertEquals("s3cret!", c.password());
        refusedNaming(new JsonObject().put("user", "root"), "etcd.user");
        refusedNaming(new JsonObject().put("password", "s3cret!"), "etcd.user");
        refusedNaming(new JsonObject().put("user", "root").put("password", ""), "etcd.user");
        refusedNaming(new JsonObject().put("user", "").put("password", "x"), "etcd.user");
    }

    @Test
    void toString_hidesThePassword() {
        EtcdConfig c = EtcdConfig.parse(new JsonObject().put("user", "root").put("password", "s3cret!"));
        assertFalse(c.toString().contains("s3cret!"), c.toString());
        assertTrue(c.toString().contains("root"), c.toString());
    }

    @Test
    void tls_filesMustBeReadable() throws Exception {
        Path ca = Files.writeString(tmp.resolve("ca.pem"), "x");
        Path cert = Files.writeString(tmp.resolve("cert.pem"), "x");
        Path key = Files.writeString(tmp.resolve("key.pem"), "x");
        EtcdConfig c = EtcdConfig.parse(new JsonObject().put("endpoints", "https://127.0.0.1:2379").put("tls", new JsonObject()
                .put("caFile", ca.toString()).put("certFile", cert.toString()).put("keyFile", key.toString())));
        assertEquals(new EtcdConfig.Tls(ca, cert, key), c.tls());
        assertTrue(c.usesTls());
        assertEquals(new EtcdConfig.Tls(ca, null, null),
                EtcdConfig.parse(new JsonObject().put("endpoints", "https://127.0.0.1:2379")
                        .put("tls", new JsonObject().put("caFile", ca.toString()))).tls());
        // TLS files with plain http endpoints would be silently unused: refused.
        refusedNaming(new JsonObject().put("tls", new JsonObject().put("caFile", ca.toString())), "etcd.tls");

        refusedNaming(new JsonObject().put("tls", new JsonObject().put("caFile", tmp.resolve("missing.pem").toString())),
                "etcd.tls.caFile");
        refusedNaming(new JsonObject().put("tls", new JsonObject().put("caFile", ca.toString())
                .put("certFile", tmp.resolve("missing.pem").toString()).put("keyFile", key.toString())), "etcd.tls.certFile");
        refusedNaming(new JsonObject().put("tls", new JsonObject().put("certFile", cert.toString())), "etcd.tls.certFile");
        refusedNaming(new JsonObject().put("tls", "ca.pem"), "etcd.tls");
        assertTrue(refused(new JsonObject().put("tls", new JsonObject().put("caFile", tmp.resolve("missing.pem").toString())))
                .getMessage().contains("missing.pem"), "names the file");
    }
}
