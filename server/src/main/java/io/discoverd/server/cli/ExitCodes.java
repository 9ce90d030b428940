package io.discoverd.server.cli;

/**
 * The exit statuses of every {@code discoverd} subcommand, one table for all of them (also shown by
 * {@code --help}). Scripts rely on them: keep the numbers.
 */
public final class ExitCodes {

    /** Success; also a holding command ({@code register}, {@code watch}, {@code leader --follow}) ended by a signal. */
    public static final int OK = 0;
    /** The daemon answered with an error (e.g. an invalid address); {@code serve}: the daemon cannot start; {@code drain}: refused. */
    public static final int FAILED = 1;
    /** Invalid flags, daemon address or configuration (picocli's own usage status). */
    public static final int USAGE = 2;
    /** What was asked for does not exist: no leader (no online instance), or unregister of an unknown instance. */
    public static final int NOT_FOUND = 3;
    /**
     * The daemon or its store is unavailable: it cannot be reached, the connection was lost, it did not
     * answer in time, or it answered {@code discoverd: store unavailable: …}. Worth a retry.
     */
    public static final int UNAVAILABLE = 4;

    /** For {@code @Command(exitCodeList = ...)}: the statuses every command can return. */
    public static final String LIST_OK = "0:success";
    public static final String LIST_FAILED = "1:the daemon answered with an error";
    public static final String LIST_USAGE = "2:invalid flags or daemon address";
    public static final String LIST_UNAVAILABLE = "4:the daemon or its store is unavailable (cannot be reached, connection lost, no answer in time, store unavailable)";
    /** The daemon's error text (PROTOCOL.md Appendix A) when its store cannot be reached: worth a retry, as a lost connection. */
    public static final String STORE_UNAVAILABLE = "discoverd: store unavailable";
    public static final String HEADING = "%nExit status:%n";

    private ExitCodes() {
    }
}
