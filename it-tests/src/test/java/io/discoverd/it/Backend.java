package io.discoverd.it;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.ArgumentsProvider;
import org.junit.jupiter.params.support.ParameterDeclarations;

/**
 * The stores a daemon can run on, named as in the {@code backend:} key of {@code discoverd.yaml}:
 * the only thing that tells a daemon which store it uses is the config file it is started with
 * ({@link TestStore#daemonConfig}).
 */
public enum Backend {

    ZOOKEEPER("zookeeper") {
        @Override
        public TestStore startStore() throws Exception {
            return new ZooKeeperStore();
        }
    },
    ETCD("etcd") {
        @Override
        public TestStore startStore() {
            return EtcdStore.start();
        }
    },
    ;

    /**
     * The JUnit configuration parameter (or system property, e.g. {@code mvn verify
     * -Ddiscoverd.it.backends=zookeeper}) that limits {@link EachBackend} classes to some
     * backends: a comma-separated list of {@link #configName()}s. Unset: every backend.
     */
    public static final String SELECTION_PARAMETER = "discoverd.it.backends";

    private final String configName;

    Backend(String configName) {
        this.configName = configName;
    }

    /** The value of {@code backend:} in the daemon's config. */
    public String configName() {
        return configName;
    }

    /** Starts a fresh store of this kind, empty and on loopback ports of its own. */
    public abstract TestStore startStore() throws Exception;

    /** The config name, so that parameterised display names read {@code on etcd}. */
    @Override
    public String toString() {
        return configName;
    }

    /** The backends selected by {@link #SELECTION_PARAMETER}, in declaration order. */
    static List<Backend> selected(String parameter) {
        if (parameter == null || parameter.isBlank()) {
            return List.of(values());
        }
        List<String> names = Arrays.stream(parameter.split(",")).map(s -> s.trim().toLowerCase(Locale.ROOT)).toList();
        for (String n : names) {
            if (Arrays.stream(values()).noneMatch(b -> b.configName.equals(n))) {
                throw new IllegalArgumentException(SELECTION_PARAMETER + ": unknown backend '" + n + "' in '" + parameter + "'");
            }
        }
        return Arrays.stream(values()).filter(b -> names.contains(b.configName)).toList();
    }

    /** The argument source of {@link EachBackend}: every selected backend, one class invocation each. */
    static final class Selected implements ArgumentsProvider {

        @Override
        public Stream<? extends Arguments> provideArguments(ParameterDeclarations parameters, ExtensionContext context) {
            return selected(context.getConfigurationParameter(SELECTION_PARAMETER).orElse(null)).stream().map(Arguments::of);
        }
    }
}
