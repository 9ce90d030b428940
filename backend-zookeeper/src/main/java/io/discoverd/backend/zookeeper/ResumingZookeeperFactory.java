package io.discoverd.backend.zookeeper;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.utils.ZookeeperFactory;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ConnectStringParser;
import org.apache.zookeeper.client.HostProvider;
import org.apache.zookeeper.client.StaticHostProvider;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * Curator's ZooKeeper handle factory for a daemon that resumes its session across restarts
 * (notes/zookeeper.md, "Resuming a session across a daemon restart").
 *
 * <p>The first handle resumes the recorded session (one-shot); every later one (Curator asks again
 * after a session expiry) opens a fresh session. Every handle can be told to leave its session open
 * when closed ({@link #keepSessionOnClose()}): a plain daemon stop then closes the socket without the
 * {@code closeSession} request, so the instance and latch nodes survive until the next start resumes
 * the session (or until the session times out). Thread-safe.
 */
final class ResumingZookeeperFactory implements ZookeeperFactory {

    private final AtomicReference<SavedSession> resume;
    private final long resumeSessionId;
    private final AtomicBoolean keepSession = new AtomicBoolean();

    /** @param resume the session to resume with the first handle; {@code null} for none */
    ResumingZookeeperFactory(SavedSession resume) {
        this.resume = new AtomicReference<>(resume);
        this.resumeSessionId = resume == null ? 0 : resume.sessionId();
    }

    /** The id of the session the first handle resumes; 0 when none. */
    long resumeSessionId() {
        return resumeSessionId;
    }

    /** From now on, closing a handle (also Curator's {@code close()}) leaves its session open. */
    void keepSessionOnClose() {
        keepSession.set(true);
    }

    @Override
    public ZooKeeper newZooKeeper(String connectString, int sessionTimeout, Watcher watcher, boolean canBeReadOnly)
            throws Exception {
        return newZooKeeper(connectString, sessionTimeout, watcher, canBeReadOnly, null);
    }

    /**
     * The largest answer the daemon's client accepts, in bytes: {@link AsyncZk#READ_CHUNK} nodes of up
     * to 1 MiB each plus headroom. ZooKeeper's client otherwise drops the connection on an answer over
     * 1 MiB ({@code jute.maxbuffer}); it allocates a buffer only for an answer that arrives. A
     * {@code jute.maxbuffer} set by the operator (system property or client config) is kept.
     */
    static final int MAX_ANSWER_BYTES = (AsyncZk.READ_CHUNK + 8) << 20;

    /** Curator always calls this one (notes/zookeeper.md); the 4-argument one delegates here. */
    @Override
    public ZooKeeper newZooKeeper(String connectString, int sessionTimeout, Watcher watcher, boolean canBeReadOnly,
                                  ZKClientConfig clientConfig) throws Exception {
        ZKClientConfig config = clientConfig != null ? clientConfig : new ZKClientConfig();
        if (config.getProperty(ZKClientConfig.JUTE_MAXBUFFER) == null) {
            config.setProperty(ZKClientConfig.JUTE_MAXBUFFER, Integer.toString(MAX_ANSWER_BYTES));
        }
        HostProvider hosts = new StaticHostProvider(new ConnectStringParser(connectString).getServerAddresses());
        SavedSession s = resume.getAndSet(null);
        if (s != null) {
            return new Handle(connectString, sessionTimeout, watcher, s.sessionId(), s.password(), canBeReadOnly, hosts,
                    config, keepSession);
        }
        return new Handle(connectString, sessionTimeout, watcher, canBeReadOnly, hosts, config, keepSession);
    }

    /** A ZooKeeper handle whose {@code close()} can leave the session open on the server. */
    static final class Handle extends ZooKeeper {

        private final AtomicBoolean keepSession;

        Handle(String connect, int timeout, Watcher watcher, boolean readOnly, HostProvider hosts, ZKClientConfig config,
               AtomicBoolean keepSession) throws IOException {
            super(connect, timeout, watcher, readOnly, hosts, config);
            this.keepSession = keepSession;
        }

        Handle(String connect, int timeout, Watcher watcher, long sessionId, byte[] password, boolean readOnly,
               HostProvider hosts, ZKClientConfig config, AtomicBoolean keepSession) throws IOException {
            super(connect, timeout, watcher, sessionId, password, readOnly, hosts, config);
            this.keepSession = keepSession;
        }

        @Override
        public synchronized void close() throws InterruptedException {
            if (keepSession.get()) {
                // The socket goes, the session stays: no closeSession request (ClientCnxn.close sends one).
                cnxn.disconnect();
            } else {
                super.close();
            }
        }

        @Override
        public boolean close(int waitForShutdownTimeoutMs) throws InterruptedException {
            if (keepSession.get()) {
                close();
                return true;
            }
            return super.close(waitForShutdownTimeoutMs);
        }
    }
}
