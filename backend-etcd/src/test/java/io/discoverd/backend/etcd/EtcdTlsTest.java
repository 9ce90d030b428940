package io.discoverd.backend.etcd;

import static io.discoverd.backend.etcd.EtcdTests.await;
import static io.discoverd.backend.etcd.EtcdTests.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.backend.DiscoveryBackend;
import io.discoverd.backend.DiscoveryException;
import io.discoverd.backend.Registration;
import io.discoverd.backend.contract.RecordingListener;
import io.discoverd.backend.etcd.testing.EtcdProcess;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code etcd.tls} passed through to jetcd: an etcd whose client listener speaks TLS and requires a
 * client certificate (certificates made with openssl for this test). With the CA and a client
 * certificate the backend works; without the client certificate every call fails with "store
 * unavailable" naming the https endpoint.
 */
class EtcdTlsTest {

    /** The test CA, certificates and daemon directories; JUnit deletes it after the class. */
    @TempDir
    static Path pki;
    private static EtcdProcess etcd;
    private static Vertx vertx;
    private static final Duration TTL = Duration.ofSeconds(10);

    @BeforeAll
    static void start() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=discoverd-test-ca");
        certificate("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        certificate("client", "discoverd", "extendedKeyUsage=clientAuth\n");
        etcd = EtcdProcess.startSingleTls(pki.resolve("server.pem"), pki.resolve("server.key"), pki.resolve("ca.pem"));
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() {
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().join();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    private static void certificate(String name, String cn, String ext) throws Exception {
        Files.writeString(pki.resolve(name + ".ext"), ext);
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn);
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext");
    }

    private static void openssl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(pki.toFile()).redirectErrorStream(true)
                .redirectOutput(pki.resolve("openssl.log").toFile()).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0,
                () -> "openssl " + String.join(" ", args) + " failed: " + read(pki.resolve("openssl.log")));
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static DiscoveryBackend backend(JsonObject tls) throws IOException {
        JsonObject section = EtcdTestSupport.section(etcd.endpoint(), EtcdTestSupport.uniquePrefix()).put("tls", tls);
        return EtcdTestSupport.backend(vertx, section, TTL, Files.createTempDirectory(pki, "daemon"));
    }

    @Test
    void withTheCaAndAClientCertificate_everythingWorks() throws Exception {
        assertTrue(etcd.endpoint().startsWith("https://"), etcd.endpoint());
        DiscoveryBackend b = backend(new JsonObject()
                .put("caFile", pki.resolve("ca.pem").toString())
                .put("certFile", pki.resolve("client.pem").toString())
                .put("keyFile", pki.resolve("client.key").toString()));
        try {
            RecordingListener l = new RecordingListener();
            var sub = b.subscribe("tls", l);
            l.awaitCurrent(EtcdTests.TIMEOUT);
            Registration r = await(b.register("tls", "10.0.0.1:80", Map.of("secure", "yes")));
            assertEquals(Registration.Outcome.CREATED, r.outcome());
            assertEquals(Map.of("secure", "yes"), l.awaitOnline(EtcdTests.TIMEOUT, "10.0.0.1:80").attrs());
            assertEquals(r.instance(), await(b.leader("tls")).orElseThrow());
            EtcdTests.waitFor(EtcdTests.TIMEOUT, "the probe to see etcd", b::isConnected);
            sub.close();
        } finally {
            await(b.close());
        }
    }

    @Test
    void withoutTheClientCertificate_callsFailWithStoreUnavailableNamingTheEndpoint() throws Exception {
        DiscoveryBackend b = backend(new JsonObject().put("caFile", pki.resolve("ca.pem").toString()));
        try {
            Throwable t = failure(b.register("tls", "10.0.0.2:80", null));
            assertInstanceOf(DiscoveryException.StoreUnavailable.class, t);
            assertTrue(t.getMessage().startsWith("discoverd: store unavailable: etcd " + etcd.endpoint()), t.getMessage());
        } finally {
            await(b.close());
        }
    }
}
