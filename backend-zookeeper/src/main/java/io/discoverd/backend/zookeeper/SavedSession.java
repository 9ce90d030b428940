package io.discoverd.backend.zookeeper;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Base64;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ZooKeeper session a daemon holds, as recorded in its data directory so that the next start
 * resumes it (ARCHITECTURE.md "Liveness", notes/zookeeper.md "Resuming a session across a daemon
 * restart").
 *
 * <p>File {@code <dataDir>/zookeeper-session.properties}: {@code store} (the ensemble and namespace
 * the session belongs to; a session is only resumed on the same store), {@code sessionId} (hex) and
 * {@code password} (Base64). Written atomically (temporary file, then an atomic rename), so a crash
 * never leaves half a file. The data directory is locked by the daemon, so one process at a time
 * uses the file. Immutable value; the static methods are thread-safe.
 *
 * @param store     the store the session belongs to (connect hosts and namespace)
 * @param sessionId the ZooKeeper session id
 * @param password  the session password (the array is shared; do not modify it)
 */
record SavedSession(String store, long sessionId, byte[] password) {

    private static final Logger LOG = LoggerFactory.getLogger(SavedSession.class);
    static final String FILE = "zookeeper-session.properties";

    /**
     * Reads the session recorded in {@code dataDir} for {@code store}.
     *
     * @return empty when there is none, it belongs to another store, or the file is unreadable
     *         (logged; the daemon then starts a new session)
     */
    static Optional<SavedSession> load(Path dataDir, String store) {
        Path file = dataDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
            String recordedStore = p.getProperty("store");
            if (!store.equals(recordedStore)) {
                LOG.info("{} records a session of {}, not of {}: starting a new session", file, recordedStore, store);
                return Optional.empty();
            }
            long id = Long.parseUnsignedLong(p.getProperty("sessionId", ""), 16);
            byte[] pwd = Base64.getDecoder().decode(p.getProperty("password", ""));
            if (id == 0 || pwd.length == 0) {
                return Optional.empty();
            }
            return Optional.of(new SavedSession(store, id, pwd));
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("{} is unreadable ({}): starting a new session", file, e.toString());
            return Optional.empty();
        }
    }

    /**
     * Records this session in {@code dataDir}, replacing any earlier one atomically.
     *
     * @throws IOException when the file cannot be written
     */
    void save(Path dataDir) throws IOException {
        Properties p = new Properties();
        p.setProperty("store", store);
        p.setProperty("sessionId", Long.toHexString(sessionId));
        p.setProperty("password", Base64.getEncoder().encodeToString(password));
        Path tmp = Files.createTempFile(dataDir, FILE, ".tmp");
        try {
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                p.store(w, "ZooKeeper session of this daemon, resumed on restart; deleted by a drain");
            }
            try {
                Files.move(tmp, dataDir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dataDir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Deletes the record (after a drain: the session is closed, there is nothing to resume). */
    static void delete(Path dataDir) {
        try {
            Files.deleteIfExists(dataDir.resolve(FILE));
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", dataDir.resolve(FILE), e.toString());
        }
    }
}
