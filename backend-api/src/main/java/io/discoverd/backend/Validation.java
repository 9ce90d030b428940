package io.discoverd.backend;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The one validation rule for names and addresses before they become store keys, shared by every
 * backend (ARCHITECTURE.md, "Store layout"): non-empty, at most {@value #MAX_BYTES} bytes of UTF-8,
 * no {@code /}, not {@code .} or {@code ..}, no control characters, none of U+007F–U+009F,
 * U+D800–U+F8FF (surrogates and private use) or U+FFF0–U+FFFF, which ZooKeeper cannot store.
 * Stateless and thread-safe.
 */
public final class Validation {

    /** Maximum length of a name or address in UTF-8 bytes. */
    public static final int MAX_BYTES = 255;

    private Validation() {
    }

    /** Whether {@code s} may be used as a name or address segment of a store key. */
    public static boolean isValidSegment(String s) {
        if (s == null || s.isEmpty() || s.equals(".") || s.equals("..")) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '/' || c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0) {
                return false;
            }
        }
        return s.getBytes(StandardCharsets.UTF_8).length <= MAX_BYTES;
    }

    /**
     * Checks a service name.
     *
     * @throws DiscoveryException.InvalidName when it is not valid
     */
    public static void checkName(String name) {
        if (!isValidSegment(name)) {
            throw new DiscoveryException.InvalidName();
        }
    }

    /**
     * Checks an expanded address.
     *
     * @throws DiscoveryException.InvalidAddr when it is not valid
     */
    public static void checkAddr(String addr) {
        if (!isValidSegment(addr)) {
            throw new DiscoveryException.InvalidAddr();
        }
    }

    /**
     * What is wrong with an instance's name and address, for backends that answer with a failed
     * stage rather than throw: the name is checked first, as the original daemon's Register does.
     *
     * @return {@link DiscoveryException.InvalidName}, {@link DiscoveryException.InvalidAddr}, or empty when both are valid
     */
    public static Optional<DiscoveryException> instanceProblem(String name, String addr) {
        if (!isValidSegment(name)) {
            return Optional.of(new DiscoveryException.InvalidName());
        }
        if (!isValidSegment(addr)) {
            return Optional.of(new DiscoveryException.InvalidAddr());
        }
        return Optional.empty();
    }
}
