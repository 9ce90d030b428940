package io.discoverd.backend.etcd;

import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.etcd.jetcd.common.exception.EtcdExceptionFactory;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * One-shot lease keep-alives sent on ONE long-lived etcd {@code LeaseKeepAlive} stream, instead of
 * jetcd's {@code keepAliveOnce}, which opens and closes a gRPC stream per call (notes/etcd.md).
 * Each {@link #keepAlive} sends exactly one request and refreshes the lease once, when asked: nothing
 * here refreshes a lease on its own (unlike jetcd's long-lived keep-alive, which keeps refreshing on
 * its own schedule until closed).
 *
 * <p>etcd answers the requests of one stream one by one, in order, each response naming its lease;
 * so responses are matched to requests by lease id, first in first out per id. The stream is opened
 * at the first keep-alive and again at the first keep-alive after it broke (etcd restarted, the
 * connection cut, a keep-alive unanswered within the timeout: then the stream is cancelled, since a
 * stream that lost one answer cannot be trusted to match the next ones). A keep-alive waiting on a
 * stream that broke is sent once more on a new one; one that timed out, or was sent twice, fails.
 *
 * <p>Thread-safe: one lock guards the stream (a gRPC request observer is not thread-safe) and the
 * waiting keep-alives; futures are completed outside it.
 */
final class LeaseKeepAlives {

    private final Supplier<LeaseGrpc.LeaseStub> stubs;
    private final long timeoutMs;
    /** The open stream, or {@code null} until the next keep-alive opens one; guarded by {@code this}. */
    private Stream current;
    private boolean closed;

    /**
     * @param stubs     makes the stub a new stream is opened with (jetcd's channel, its credentials)
     * @param timeoutMs how long a keep-alive may wait for its response before it fails and the stream is reset
     */
    LeaseKeepAlives(Supplier<LeaseGrpc.LeaseStub> stubs, long timeoutMs) {
        this.stubs = stubs;
        this.timeoutMs = timeoutMs;
    }

    /**
     * Refreshes a lease once. A keep-alive whose stream breaks before its answer came (a connection
     * lost, possibly before etcd saw the request) is sent once more on a new stream, as jetcd retries
     * its unary calls once: a second refresh of the same lease for the same heartbeat is harmless.
     *
     * @return the lease's new TTL in seconds, or 0 when etcd does not have the lease (any more); fails
     *         with an {@link io.etcd.jetcd.common.exception.EtcdException} when the stream broke twice,
     *         with a {@link TimeoutException} when no answer came within the timeout, with an
     *         {@link IllegalStateException} once closed
     */
    CompletableFuture<Long> keepAlive(long lease) {
        Waiting w = new Waiting(lease);
        send(w);
        Deadlines.shared().within(w.answer, timeoutMs).whenComplete((ttl, e) -> {
            if (e instanceof TimeoutException) {
                Stream on;
                synchronized (this) {
                    on = w.on;
                }
                if (on != null) {
                    reset(on, new IllegalStateException(
                            "the lease keep-alive stream was reset: a keep-alive on it went unanswered for " + timeoutMs + " ms"));
                }
            }
        });
        return w.answer;
    }

    /** Writes the request on the current stream, opening one if there is none. */
    private void send(Waiting w) {
        Stream s;
        Throwable failed = null;
        RuntimeException writeFailure = null;
        synchronized (this) {
            s = current;
            if (closed) {
                failed = new IllegalStateException("the daemon is stopping");
            } else if (s == null) {
                s = new Stream();
                current = s;
                try {
                    stubs.get().leaseKeepAlive(s); // calls s.beforeStart at once
                } catch (RuntimeException e) {
                    current = null;
                    failed = EtcdExceptionFactory.toEtcdException(e);
                }
            }
            if (failed == null && s.failure != null) { // failed while it was being opened
                failed = s.failure;
            }
            if (failed == null) {
                w.on = s;
                s.waiting.computeIfAbsent(w.lease, id -> new ArrayDeque<>(1)).add(w);
                try {
                    s.requests.onNext(LeaseKeepAliveRequest.newBuilder().setID(w.lease).build());
                } catch (RuntimeException e) {
                    writeFailure = e;
                }
            }
        }
        if (failed != null) {
            w.answer.completeExceptionally(failed);
        } else if (writeFailure != null) {
            reset(s, EtcdExceptionFactory.toEtcdException(writeFailure)); // fails w, or sends it again
        }
    }

    /** Ends the stream; keep-alives waiting on it, and any later one, fail. Idempotent. */
    void close() {
        Stream s;
        synchronized (this) {
            closed = true;
            s = current;
        }
        if (s != null) {
            reset(s, new IllegalStateException("the daemon is stopping"));
        }
    }

    /** Cancels a stream we no longer trust (etcd sees it end), then forgets it as {@link #broken} does. */
    private void reset(Stream s, Throwable cause) {
        synchronized (this) {
            if (s.failure == null) {
                // Under the same lock as send(): no write reaches the cancelled call, a new one opens a new stream.
                s.failure = cause;
                if (current == s) {
                    current = null;
                }
                s.requests.cancel(cause.getMessage(), null);
            }
        }
        broken(s, cause, false);
    }

    /**
     * Forgets a stream that broke (if it is still the current one); what waits on it is sent again
     * ({@code retry}, once per keep-alive) or fails.
     */
    private void broken(Stream s, Throwable cause, boolean retry) {
        List<Waiting> again = new ArrayList<>();
        List<Waiting> failed = new ArrayList<>();
        synchronized (this) {
            if (s.failure == null) {
                s.failure = cause;
            }
            if (current == s) {
                current = null;
            }
            for (ArrayDeque<Waiting> q : s.waiting.values()) {
                for (Waiting w : q) {
                    w.on = null;
                    if (retry && !w.retried && !w.answer.isDone()) {
                        w.retried = true;
                        again.add(w);
                    } else {
                        failed.add(w);
                    }
                }
            }
            s.waiting.clear();
        }
        for (Waiting w : failed) {
            w.answer.completeExceptionally(cause);
        }
        for (Waiting w : again) {
            send(w);
        }
    }

    /** A keep-alive waiting for its answer; {@link #on} and {@link #retried} are guarded by the outer lock. */
    private static final class Waiting {
        final long lease;
        final CompletableFuture<Long> answer = new CompletableFuture<>();
        /** The stream it was written to, while it waits there. */
        Stream on;
        boolean retried;

        Waiting(long lease) {
            this.lease = lease;
        }
    }

    /** One opened stream and the keep-alives waiting for their answer on it (guarded by the outer lock). */
    private final class Stream implements ClientResponseObserver<LeaseKeepAliveRequest, LeaseKeepAliveResponse> {
        final Map<Long, ArrayDeque<Waiting>> waiting = new HashMap<>();
        ClientCallStreamObserver<LeaseKeepAliveRequest> requests;
        /** Why it broke; {@code null} while it works. Once set, nothing is written to it. */
        Throwable failure;

        @Override
        public void beforeStart(ClientCallStreamObserver<LeaseKeepAliveRequest> requestStream) {
            requests = requestStream;
        }

        @Override
        public void onNext(LeaseKeepAliveResponse response) {
            Waiting answered = null;
            synchronized (LeaseKeepAlives.this) {
                ArrayDeque<Waiting> q = waiting.get(response.getID());
                if (q != null) {
                    answered = q.poll();
                    answered.on = null;
                    if (q.isEmpty()) {
                        waiting.remove(response.getID());
                    }
                }
            }
            if (answered != null) {
                answered.answer.complete(Math.max(0, response.getTTL()));
            }
        }

        @Override
        public void onError(Throwable failure) {
            broken(this, EtcdExceptionFactory.toEtcdException(failure), true);
        }

        @Override
        public void onCompleted() {
            broken(this, new IllegalStateException("etcd ended the lease keep-alive stream"), true);
        }
    }
}
