package io.discoverd.backend.zookeeper;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import java.util.Map;

/**
 * Keeps one copy of each distinct attribute map held by owned instances, so that the many instances
 * of a service that carry equal attributes share it. Equal maps in a different order become one (the
 * order of attributes has no meaning in the protocol). Thread-safe; weak, so a map that no instance
 * holds any more can be collected.
 */
final class AttrsInterner {

    private final Interner<Map<String, String>> interner = Interners.newWeakInterner();

    /**
     * The shared copy of {@code attrs}.
     *
     * @param attrs a map nobody modifies any more, or {@code null} (nil attributes, returned as is)
     * @return a map equal to {@code attrs}, or {@code null}
     */
    Map<String, String> intern(Map<String, String> attrs) {
        return attrs == null ? null : interner.intern(attrs);
    }
}
