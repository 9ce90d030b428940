package io.discoverd.it;

import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.AssertionFailedError;

/**
 * Puts the backend of an {@link EachBackend} run ({@code on etcd}) in front of a failing test's
 * message. Surefire's reports name a class's runs only by index ({@code GobScenarioTest[2]}), not
 * by their display names, so without this a failure would not say which store it failed on.
 * Assertion errors get the prefix in their message (same type, stack trace and expected/actual);
 * any other exception carries the backend as a suppressed note.
 */
final class BackendInFailures implements TestExecutionExceptionHandler {

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        Optional<String> run = run(context);
        if (run.isEmpty()) {
            throw failure;
        }
        throw tagged(failure, run.get());
    }

    /** The display name of the enclosing class-template invocation, e.g. {@code on etcd}. */
    private static Optional<String> run(ExtensionContext context) {
        for (Optional<ExtensionContext> c = Optional.of(context); c.isPresent(); c = c.get().getParent()) {
            String id = c.get().getUniqueId();
            if (id.substring(id.lastIndexOf('/') + 1).startsWith("[class-template-invocation:")) {
                return Optional.of(c.get().getDisplayName());
            }
        }
        return Optional.empty();
    }

    private static Throwable tagged(Throwable failure, String run) {
        String message = run + ": " + failure.getMessage();
        Throwable tagged;
        if (failure instanceof AssertionFailedError f) {
            tagged = new AssertionFailedError(message,
                    f.isExpectedDefined() ? f.getExpected().getEphemeralValue() : null,
                    f.isActualDefined() ? f.getActual().getEphemeralValue() : null, f.getCause());
        } else if (failure.getClass() == AssertionError.class) {
            tagged = new AssertionError(message, failure.getCause());
        } else {
            failure.addSuppressed(new BackendNote(run));
            return failure;
        }
        tagged.setStackTrace(failure.getStackTrace());
        for (Throwable s : failure.getSuppressed()) {
            tagged.addSuppressed(s);
        }
        return tagged;
    }

    /** The backend of the run, attached to a failure that is not an assertion error. */
    private static final class BackendNote extends Exception {

        private static final long serialVersionUID = 1L;

        BackendNote(String run) {
            super(run, null, false, false);
        }
    }
}
