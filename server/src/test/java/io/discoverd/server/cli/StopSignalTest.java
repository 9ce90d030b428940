package io.discoverd.server.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import sun.misc.Signal;

/** {@link StopSignal} with real signals, raised in this JVM. */
class StopSignalTest {

    @Test
    void arm_installsTheHandlersBeforeAnyWait_soASignalRightAfterIsAStopNotAnExit() throws Exception {
        StopSignal stop = StopSignal.onSignals();
        stop.arm();
        assertFalse(stop.isTriggered());
        Signal.raise(new Signal("TERM")); // without the handler this would end the test JVM
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!stop.isTriggered() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(stop.isTriggered());
    }
}
