package io.discoverd.server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The exclusive hold of a daemon on its data directory, so that two daemons on one host never share
 * it (ARCHITECTURE.md, "Liveness": the directory holds the store session). Backed by an OS file lock
 * on {@value #LOCK_FILE}, which the OS releases if the process dies.
 *
 * <p>Thread-safe; {@link #close()} is idempotent.
 */
public final class DataDirLock implements AutoCloseable {

    /** Name of the lock file inside the data directory. */
    public static final String LOCK_FILE = "discoverd.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates the directory if needed and locks it without waiting.
     *
     * @param dir the data directory
     * @return the held lock
     * @throws DaemonStartException (exit status 1) when the directory cannot be created or another
     *                              daemon (in this or another process) holds it
     */
    public static DataDirLock acquire(Path dir) throws DaemonStartException {
        Path file = dir.resolve(LOCK_FILE);
        FileChannel channel;
        try {
            Files.createDirectories(dir);
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new DaemonStartException("cannot use data directory " + dir.toAbsolutePath() + ": " + e, 1, e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by another daemon in this JVM
        } catch (IOException e) {
            closeQuietly(channel);
            throw new DaemonStartException("cannot lock " + file.toAbsolutePath() + ": " + e, 1, e);
        }
        if (lock == null) {
            closeQuietly(channel);
            throw new DaemonStartException("data directory " + dir.toAbsolutePath()
                    + " is in use by another discoverd (lock file " + LOCK_FILE
                    + "); give each daemon its own dataDir or --bind port", 1, null);
        }
        return new DataDirLock(channel, lock);
    }

    /** Releases the lock. */
    @Override
    public void close() {
        try {
            if (lock.isValid()) {
                lock.release();
            }
        } catch (IOException ignored) {
            // closing the channel below releases it anyway
        }
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}
