package io.discoverd.backend;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * A store call that callers arriving together share, for read-your-writes barriers before a
 * subscription's snapshot (a ZooKeeper sync marker, an etcd linearizable read): at most one call is
 * in flight; callers arriving meanwhile share the next one, started when it ends. Every call starts
 * after all of its callers arrived, so it is a barrier for each of them, and a burst of thousands
 * of subscribers (clients reconnecting after a daemon restart) costs a few calls, not one each.
 *
 * <p>Thread-safe: {@link #join} from any thread.
 *
 * @param <T> the call's result
 */
public final class SharedCall<T> {

    private final Supplier<? extends CompletionStage<T>> call;
    private final Executor starter;
    /** The call not started yet, joined by every caller arriving until it starts; guarded by this. */
    private CompletableFuture<T> next;
    /** Whether a call is in flight (the next one waits for it); guarded by this. */
    private boolean inFlight;

    /**
     * @param call    starts one call; must not block
     * @param starter where a call is started: {@code Runnable::run} at once, or an executor so that
     *                callers already queued on it join the same call
     */
    public SharedCall(Supplier<? extends CompletionStage<T>> call, Executor starter) {
        this.call = Objects.requireNonNull(call, "call");
        this.starter = Objects.requireNonNull(starter, "starter");
    }

    /**
     * The result of a call started after this moment: the next one, shared with the callers that
     * join before it starts. Completes on the thread that completes the call (or fails with its
     * failure).
     */
    public CompletableFuture<T> join() {
        CompletableFuture<T> joined;
        boolean start;
        synchronized (this) {
            start = next == null && !inFlight;
            if (next == null) {
                next = new CompletableFuture<>();
            }
            joined = next;
        }
        if (start) {
            starter.execute(this::start);
        }
        return joined;
    }

    private void start() {
        CompletableFuture<T> joined;
        synchronized (this) {
            joined = next;
            next = null;
            inFlight = true;
        }
        CompletionStage<T> stage;
        try {
            stage = call.get();
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedFuture(e);
        }
        stage.whenComplete((value, failure) -> {
            boolean again;
            synchronized (this) {
                inFlight = false;
                again = next != null;
            }
            if (again) {
                starter.execute(this::start);
            }
            if (failure != null) {
                joined.completeExceptionally(failure);
            } else {
                joined.complete(value);
            }
        });
    }
}
