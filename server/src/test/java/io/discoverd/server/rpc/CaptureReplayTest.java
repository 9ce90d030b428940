package io.discoverd.server.rpc;

import io.discoverd.server.testing.Replay;
import io.discoverd.server.testing.TestDaemon;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** PROTOCOL.md §8 items 10-12, 29, 38, 50, 51: the recorded sessions replayed against a fresh daemon. */
class CaptureReplayTest {

    @TempDir
    Path dataDir;
    TestDaemon daemon;

    @BeforeEach
    void start() throws Exception {
        daemon = TestDaemon.start(dataDir);
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"json-session.txt", "json-edge-cases.txt"})
    void jsonCapture_replayed_givesTheRecordedResponses(String file) throws Exception {
        Replay.json(daemon.port(), file);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gob-register.txt", "gob-register-error.txt", "gob-unknown-method.txt", "gob-subscribe.txt",
        "gob-unregister.txt", "gob-closestream.txt", "gob-session.txt"})
    void gobCapture_replayed_givesTheRecordedResponses(String file) throws Exception {
        Replay.gob(daemon.port(), file);
    }
}
