package io.discoverd.backend.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Txn;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers "is this key still at this mod revision?" for heartbeats, many keys per etcd round trip.
 *
 * <p>Checks asked for while a transaction is under way wait for the next one, which carries all of
 * them (up to {@link #MAX_BATCH}; at most {@link #MAX_IN_FLIGHT} transactions at once): a lone check
 * goes out at once, and under load one transaction serves many heartbeats. The transaction compares
 * the mod revision of every key, has nothing to do when all hold, and reads every key (keys only) when
 * one does not, so each check gets its answer from the same round trip. It writes nothing: the store
 * revision does not move, and a read-only transaction is a linearizable read in etcd, so the answer
 * reflects every write acknowledged before it.
 *
 * <p>Thread-safe.
 */
final class ModRevisionChecks {

    private static final Logger LOG = LoggerFactory.getLogger(ModRevisionChecks.class);
    /** etcd's default {@code --max-txn-ops}; halved for good when a member refuses that many. */
    static final int MAX_BATCH = 128;
    /** Transactions under way at once; more checks wait for one of them to come back. */
    static final int MAX_IN_FLIGHT = 2;

    private record Check(ByteSequence key, long modRevision, CompletableFuture<Boolean> result) {
    }

    private final KV kv;
    private final long timeoutMs;
    /** Guarded by {@code this}. */
    private final ArrayDeque<Check> queued = new ArrayDeque<>();
    private int inFlight;
    private int maxBatch = MAX_BATCH;

    /** @param timeoutMs how long one transaction may take before its checks fail with a timeout */
    ModRevisionChecks(KV kv, long timeoutMs) {
        this.kv = kv;
        this.timeoutMs = timeoutMs;
    }

    /**
     * Whether {@code key} is at {@code modRevision} now (a deleted key is at none).
     *
     * @return completes with the answer, or fails as the transaction did (an etcd error, a timeout)
     */
    CompletableFuture<Boolean> unchanged(ByteSequence key, long modRevision) {
        Check c = new Check(key, modRevision, new CompletableFuture<>());
        List<Check> batch;
        synchronized (this) {
            queued.add(c);
            batch = nextBatch();
        }
        send(batch);
        return c.result();
    }

    /** Takes the next batch if a transaction may go out now; {@code null} otherwise. Holds the lock. */
    private List<Check> nextBatch() {
        if (queued.isEmpty() || inFlight >= MAX_IN_FLIGHT) {
            return null;
        }
        inFlight++;
        List<Check> batch = new ArrayList<>(Math.min(queued.size(), maxBatch));
        while (batch.size() < maxBatch && !queued.isEmpty()) {
            batch.add(queued.poll());
        }
        return batch;
    }

    private void send(List<Check> batch) {
        if (batch == null) {
            return;
        }
        CompletableFuture<TxnResponse> txn;
        try {
            Cmp[] ifs = new Cmp[batch.size()];
            Op[] reads = new Op[batch.size()];
            for (int i = 0; i < ifs.length; i++) {
                Check c = batch.get(i);
                ifs[i] = new Cmp(c.key(), Cmp.Op.EQUAL, CmpTarget.modRevision(c.modRevision()));
                reads[i] = Op.get(c.key(), GetOption.builder().withKeysOnly(true).build());
            }
            Txn t = kv.txn().If(ifs).Else(reads);
            txn = Deadlines.shared().within(t.commit(), timeoutMs);
        } catch (RuntimeException e) {
            txn = CompletableFuture.failedFuture(e);
        }
        txn.whenComplete((resp, failure) -> {
            List<Check> retry = failure != null && batch.size() > 1 && tooManyOps(failure) ? batch : null;
            List<Check> next;
            synchronized (this) {
                inFlight--;
                if (retry != null) {
                    if (maxBatch > batch.size() / 2) {
                        maxBatch = Math.max(1, batch.size() / 2);
                        LOG.warn("etcd refused a transaction of {} compares (--max-txn-ops): heartbeat checks now go {} per transaction",
                                batch.size(), maxBatch);
                    }
                    for (int i = retry.size() - 1; i >= 0; i--) { // back at the head, in their order
                        queued.addFirst(retry.get(i));
                    }
                }
                next = nextBatch();
            }
            if (retry == null) {
                answer(batch, resp, failure);
            }
            send(next);
        });
    }

    private static void answer(List<Check> batch, TxnResponse resp, Throwable failure) {
        if (failure != null) {
            batch.forEach(c -> c.result().completeExceptionally(failure));
            return;
        }
        if (resp.isSucceeded()) {
            batch.forEach(c -> c.result().complete(true));
            return;
        }
        List<GetResponse> reads = resp.getGetResponses();
        for (int i = 0; i < batch.size(); i++) {
            Check c = batch.get(i);
            GetResponse r = reads.get(i);
            c.result().complete(!r.getKvs().isEmpty() && r.getKvs().get(0).getModRevision() == c.modRevision());
        }
    }

    private static boolean tooManyOps(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            if (root instanceof EtcdException) {
                break;
            }
            root = root.getCause();
        }
        return root instanceof EtcdException ee && ee.getErrorCode() == ErrorCode.INVALID_ARGUMENT
                && ee.getMessage() != null && ee.getMessage().contains("too many operations");
    }
}
