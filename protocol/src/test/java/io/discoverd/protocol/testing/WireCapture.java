package io.discoverd.protocol.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Reader for the wire captures in {@code testdata/wire/} (format: the README there).
 *
 * <p>Exported in this module's test-jar for other modules' tests. Immutable values; thread-safe.
 */
public final class WireCapture {

    /** Which way a message went. */
    public enum Direction { C2S, S2C }

    /**
     * One message line.
     *
     * @param direction  client to server or server to client
     * @param bytes      the exact bytes (a gob message with its length prefix, HTTP bytes, or JSON text
     *                   without its terminating LF); empty for {@code <close>}
     * @param close      whether the line is {@code <close>}
     * @param quoted     whether the payload was a quoted string (the HTTP handshake lines)
     * @param annotation the text after the last {@code " # "}, {@code ""} when none
     * @param line       1-based line number in the file
     */
    public record Message(Direction direction, byte[] bytes, boolean close, boolean quoted, String annotation, int line) {

        /** The bytes as UTF-8 text. */
        public String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        /** Whether the annotation starts with {@code tag}, e.g. {@code "[original-only]"}. */
        public boolean tagged(String tag) {
            return annotation.startsWith(tag);
        }

        /** Whether the line is a quoted HTTP handshake line rather than an RPC message. */
        public boolean isHandshake() {
            return quoted;
        }
    }

    /**
     * One {@code ==} block: a connection with fresh gob state.
     *
     * @param title    text after {@code "== "}
     * @param messages in wire order
     */
    public record Connection(String title, List<Message> messages) {

        /** Messages in one direction, in order. */
        public List<Message> messages(Direction d) {
            return messages.stream().filter(m -> m.direction() == d).toList();
        }

        /** Concatenated bytes of the RPC messages (not handshake lines, not {@code <close>}) in one direction. */
        public byte[] rpcBytes(Direction d, boolean jsonLines) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (Message m : messages(d)) {
                if (m.close() || m.isHandshake()) {
                    continue;
                }
                out.writeBytes(m.bytes());
                if (jsonLines) {
                    out.write('\n');
                }
            }
            return out.toByteArray();
        }
    }

    private WireCapture() {
    }

    /**
     * The capture directory: {@code ../testdata/wire} from the module directory (Maven's working
     * directory for tests), or {@code testdata/wire} from the repository root.
     */
    public static Path directory() {
        for (String candidate : new String[] {"../testdata/wire", "testdata/wire"}) {
            Path p = Paths.get(candidate);
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        throw new IllegalStateException("testdata/wire not found from " + Paths.get("").toAbsolutePath());
    }

    /** Reads a capture file by name, e.g. {@code "gob-session.txt"}. */
    public static List<Connection> load(String fileName) {
        return read(directory().resolve(fileName));
    }

    /** Names of all capture files ({@code *.txt}), sorted. */
    public static List<String> files() {
        try (var s = Files.list(directory())) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".txt")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses one capture file. */
    public static List<Connection> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        boolean hex = file.getFileName().toString().startsWith("gob-");
        List<Connection> out = new ArrayList<>();
        String title = null;
        List<Message> msgs = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("== ")) {
                if (title != null) {
                    out.add(new Connection(title, List.copyOf(msgs)));
                }
                title = line.substring(3);
                msgs = new ArrayList<>();
                continue;
            }
            Direction d;
            if (line.startsWith("C>S ")) {
                d = Direction.C2S;
            } else if (line.startsWith("S>C ")) {
                d = Direction.S2C;
            } else {
                continue; // comment or blank
            }
            if (msgs == null) {
                throw new IllegalStateException(file + ":" + (i + 1) + ": message before any connection");
            }
            String rest = line.substring(4);
            String payload = rest;
            String annotation = "";
            int hash = rest.lastIndexOf(" # ");
            if (hash >= 0) {
                payload = rest.substring(0, hash);
                annotation = rest.substring(hash + 3);
            }
            if (payload.equals("<close>")) {
                msgs.add(new Message(d, new byte[0], true, false, annotation, i + 1));
            } else if (payload.startsWith("\"") && payload.endsWith("\"") && payload.length() >= 2) {
                msgs.add(new Message(d, unquote(payload.substring(1, payload.length() - 1)), false, true, annotation, i + 1));
            } else if (hex) {
                msgs.add(new Message(d, HexFormat.of().parseHex(payload), false, false, annotation, i + 1));
            } else {
                msgs.add(new Message(d, payload.getBytes(StandardCharsets.UTF_8), false, false, annotation, i + 1));
            }
        }
        if (title != null) {
            out.add(new Connection(title, List.copyOf(msgs)));
        }
        return out;
    }

    private static byte[] unquote(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                b.append(switch (n) {
                    case 'r' -> '\r';
                    case 'n' -> '\n';
                    case '"' -> '"';
                    case '\\' -> '\\';
                    default -> throw new IllegalArgumentException("unknown escape \\" + n);
                });
            } else {
                b.append(c);
            }
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }
}
