package io.discoverd.server;

import io.discoverd.backend.DiscoveryBackendProvider;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds backend providers on the class path with {@link ServiceLoader}, by the name in the config's
 * {@code backend} field (ARCHITECTURE.md, "Modules"): the daemon never names a backend class.
 *
 * <p>Stateless and thread-safe.
 */
public final class Backends {

    private static final Logger log = LoggerFactory.getLogger(Backends.class);

    private Backends() {
    }

    /** The names of every installed provider that can be loaded. */
    public static Set<String> installedNames() {
        Set<String> names = new TreeSet<>();
        for (DiscoveryBackendProvider p : providers()) {
            names.add(p.name());
        }
        return names;
    }

    /** The provider called {@code name}, if installed. */
    public static Optional<DiscoveryBackendProvider> find(String name) {
        return providers().stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** Loads every provider, skipping (and logging) one that cannot be loaded rather than failing all. */
    private static List<DiscoveryBackendProvider> providers() {
        List<DiscoveryBackendProvider> found = new ArrayList<>();
        Iterator<DiscoveryBackendProvider> it = ServiceLoader.load(DiscoveryBackendProvider.class).iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    return found;
                }
                found.add(it.next());
            } catch (ServiceConfigurationError | LinkageError e) {
                log.warn("skipping a backend provider that cannot be loaded: {}", e.toString());
            }
        }
    }
}
