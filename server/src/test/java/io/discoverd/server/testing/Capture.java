package io.discoverd.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** A tiny reader of the wire captures in {@code testdata/wire} (format: its README). */
public final class Capture {

    /** The captures directory, relative to the server module. */
    public static final Path DIR = Path.of("..", "testdata", "wire");

    /** One line: direction, payload bytes (empty for close), whether it is the close marker, annotation. */
    public record Message(boolean fromClient, byte[] payload, boolean close, String annotation) {
        public boolean originalOnly() {
            return annotation.startsWith("[original-only]");
        }

        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    /** One "==" block. */
    public record Connection(String title, List<Message> messages) {
    }

    private Capture() {
    }

    public static List<Connection> read(String file) throws IOException {
        List<Connection> conns = new ArrayList<>();
        List<Message> current = null;
        boolean hex = file.startsWith("gob-");
        for (String line : Files.readAllLines(DIR.resolve(file), StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("== ")) {
                current = new ArrayList<>();
                conns.add(new Connection(line.substring(3), current));
                continue;
            }
            boolean fromClient = line.startsWith("C>S ");
            String rest = line.substring(4);
            String annotation = "";
            int hash = rest.lastIndexOf(" # ");
            if (hash >= 0) {
                annotation = rest.substring(hash + 3);
                rest = rest.substring(0, hash);
            }
            rest = rest.strip();
            byte[] payload;
            boolean close = false;
            if (rest.equals("<close>")) {
                payload = new byte[0];
                close = true;
            } else if (rest.startsWith("\"") && rest.endsWith("\"")) {
                payload = unquote(rest.substring(1, rest.length() - 1));
            } else if (hex) {
                payload = HexFormat.of().parseHex(rest.replace(" ", ""));
            } else {
                payload = rest.getBytes(StandardCharsets.UTF_8);
            }
            current.add(new Message(fromClient, payload, close, annotation));
        }
        return conns;
    }

    private static byte[] unquote(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                char n = s.charAt(++i);
                out.write(switch (n) {
                    case 'r' -> '\r';
                    case 'n' -> '\n';
                    default -> n;
                });
            } else {
                out.write(c);
            }
        }
        return out.toByteArray();
    }
}
