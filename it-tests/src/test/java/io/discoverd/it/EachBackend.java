package io.discoverd.it;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * Runs a store-neutral test class once per {@link Backend} (ZooKeeper, then etcd; limit with
 * {@link Backend#SELECTION_PARAMETER}), the runs named {@code on zookeeper} and {@code on etcd}.
 *
 * <p>The class takes the backend in a field, {@code @Parameter Backend backend;} (a parameterised
 * class must consume its argument). Its per-backend setup goes in
 * a static {@code @BeforeParameterizedClassInvocation} method taking the {@link Backend}, and its
 * teardown in {@code @AfterParameterizedClassInvocation}: a plain {@code @BeforeAll} runs only once,
 * before the first backend. The runs of one class follow each other on one thread (the
 * junit-platform.properties mode for everything below a class is {@code same_thread}), so the
 * class's static fields hold one backend's store and daemons at a time; different classes still
 * run concurrently.
 *
 * <p>Surefire names the runs by index only ({@code TwoDaemonsOneStoreTest[2]}; with both backends
 * selected, {@code [1]} is ZooKeeper and {@code [2]} etcd), so {@link BackendInFailures} puts the
 * backend in front of every failure message.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ParameterizedClass(name = "on {0}")
@ArgumentsSource(Backend.Selected.class)
@ExtendWith(BackendInFailures.class)
public @interface EachBackend {
}
