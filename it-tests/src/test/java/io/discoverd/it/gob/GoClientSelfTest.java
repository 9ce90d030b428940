package io.discoverd.it.gob;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Checks of the Go interop client itself, without a daemon: {@code go vet} and its Go unit tests
 * (capture parsing, the recorded streams matching themselves, Created relations, type-id
 * renumbering). A broken judge would make every end-to-end verdict meaningless.
 */
class GoClientSelfTest {

    @Test
    @DisplayName("go vet and go test of the interop client pass (capture parsing, renumbering, comparison rules)")
    void goVetAndUnitTestsPass() throws Exception {
        GoClient.Result vet = GoClient.go(Duration.ofMinutes(3), "vet", "./...");
        assertEquals(0, vet.exitCode(), vet::describe);
        GoClient.Result test = GoClient.go(Duration.ofMinutes(3), "test", "-count=1", "./...");
        assertEquals(0, test.exitCode(), test::describe);
    }

    @Test
    @DisplayName("the interop client builds and lists its scenarios")
    void clientBuildsAndListsScenarios() throws Exception {
        GoClient.Result list = GoClient.run(Duration.ofSeconds(30), "list");
        assertEquals(0, list.exitCode(), list::describe);
        assertEquals(true, list.stdout().lines().anyMatch(l -> l.equals("garbage [#55]")), list::describe);
    }
}
