package io.discoverd.bench.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/** Small process and file helpers shared by the bench's store and daemon launchers. */
public final class Processes {

    private Processes() {
    }

    /** A free TCP port on 127.0.0.1 (free when returned; taken by whoever binds it next). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The java executable of the running JVM. */
    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The bench's own jar (or classes directory), to start store processes from its class path. */
    public static String ownClassPath() {
        return System.getProperty("java.class.path");
    }

    /** SIGTERM, then SIGKILL after 10 s ({@link #stop(List)}); {@code null} is fine. */
    public static void stop(Process p) {
        if (p != null) {
            stop(List.of(p.toHandle()));
        }
    }

    /**
     * SIGTERM to every process, then SIGKILL to each still running 10 s later (one deadline for all),
     * waiting up to 10 s more for it to end.
     */
    public static void stop(List<ProcessHandle> processes) {
        processes.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (ProcessHandle p : processes) {
            if (!awaitExit(p, deadline)) {
                p.destroyForcibly();
                awaitExit(p, System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
            }
        }
    }

    private static boolean awaitExit(ProcessHandle p, long deadlineNanos) {
        try {
            p.onExit().get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Deletes a directory tree; missing is fine. */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
