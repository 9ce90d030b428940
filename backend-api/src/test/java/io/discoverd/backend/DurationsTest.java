package io.discoverd.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void parse_acceptsEachUnit() {
        assertEquals(Duration.ofMillis(1500), Durations.parse("f", "1500ms"));
        assertEquals(Duration.ofSeconds(10), Durations.parse("f", "10s"));
        assertEquals(Duration.ofSeconds(10), Durations.parse("f", " 10 S "));
        assertEquals(Duration.ofMinutes(2), Durations.parse("f", "2m"));
        assertEquals(Duration.ofHours(1), Durations.parse("f", "1h"));
    }

    @Test
    void parse_refusesABareNumber_namingTheFieldAndTheFix() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Durations.parse("registrationTtl", 10));
        assertTrue(e.getMessage().startsWith("registrationTtl: give a unit"), e.getMessage());
        assertTrue(e.getMessage().contains("'10s'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("f", "10"));
    }

    @Test
    void parse_refusesZeroNegativeAndGarbage() {
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("f", "0s"));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("f", "-1s"));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("f", "ten seconds"));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("f", true));
    }
}
