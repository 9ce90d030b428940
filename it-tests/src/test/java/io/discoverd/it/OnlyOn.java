package io.discoverd.it;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Marks a test class that exercises one store's specifics (the embedded ZooKeeper, session
 * resumption, an etcd outage) and so runs on that {@link Backend} only, and skips it when
 * {@link Backend#SELECTION_PARAMETER} leaves that backend out. Store-neutral classes use
 * {@link EachBackend} instead.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ExtendWith(OnlyOn.Selected.class)
public @interface OnlyOn {

    /** The one backend the class runs on. */
    Backend value();

    /** Disables the class when its backend is not selected. */
    final class Selected implements ExecutionCondition {

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return context.getElement()
                    .flatMap(e -> AnnotationSupport.findAnnotation(e, OnlyOn.class))
                    .map(only -> Backend.selected(context.getConfigurationParameter(Backend.SELECTION_PARAMETER).orElse(null))
                            .contains(only.value())
                            ? ConditionEvaluationResult.enabled("runs on " + only.value())
                            : ConditionEvaluationResult.disabled(only.value() + " not in " + Backend.SELECTION_PARAMETER))
                    .orElse(ConditionEvaluationResult.enabled("no @OnlyOn"));
        }
    }
}
