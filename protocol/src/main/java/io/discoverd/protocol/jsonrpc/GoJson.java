package io.discoverd.protocol.jsonrpc;

import io.discoverd.protocol.ServiceUpdate;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes JSON the way Go's {@code encoding/json} does (PROTOCOL.md §4.3): compact, {@code <}, {@code >},
 * {@code &} as <code>&#92;u003c &#92;u003e &#92;u0026</code>, U+2028 and U+2029 escaped, control characters as
 * <code>&#92;u00XX</code> except {@code \n \r \t}, unpaired surrogates (Java's form of invalid UTF-8) as <code>&#92;ufffd</code>, map keys sorted.
 *
 * <p>Stateless; thread-safe.
 */
public final class GoJson {

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private GoJson() {
    }

    /** Appends {@code s} as a JSON string literal. */
    public static void writeString(ByteArrayOutputStream out, String s) {
        out.write('"');
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
                    out.write(c);
                } else if (c == '"' || c == '\\') {
                    out.write('\\');
                    out.write(c);
                } else if (c == '\n') {
                    out.write('\\');
                    out.write('n');
                } else if (c == '\r') {
                    out.write('\\');
                    out.write('r');
                } else if (c == '\t') {
                    out.write('\\');
                    out.write('t');
                } else {
                    unicodeEscape(out, c);
                }
            } else if (c == '\u2028' || c == '\u2029') {
                unicodeEscape(out, c);
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                writeUtf8(out, Character.toCodePoint(c, s.charAt(i + 1)));
                i++;
            } else if (Character.isSurrogate(c)) {
                unicodeEscape(out, 0xFFFD); // Go writes invalid UTF-8 as this escape

            } else {
                writeUtf8(out, c);
            }
        }
        out.write('"');
    }

    private static void unicodeEscape(ByteArrayOutputStream out, int c) {
        out.write('\\');
        out.write('u');
        out.write(HEX[(c >> 12) & 0xf]);
        out.write(HEX[(c >> 8) & 0xf]);
        out.write(HEX[(c >> 4) & 0xf]);
        out.write(HEX[c & 0xf]);
    }

    private static void writeUtf8(ByteArrayOutputStream out, int cp) {
        if (cp < 0x800) {
            out.write(0xc0 | (cp >> 6));
            out.write(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out.write(0xe0 | (cp >> 12));
            out.write(0x80 | ((cp >> 6) & 0x3f));
            out.write(0x80 | (cp & 0x3f));
        } else {
            out.write(0xf0 | (cp >> 18));
            out.write(0x80 | ((cp >> 12) & 0x3f));
            out.write(0x80 | ((cp >> 6) & 0x3f));
            out.write(0x80 | (cp & 0x3f));
        }
    }

    /** Appends ASCII text verbatim (JSON punctuation, numbers). */
    public static void writeAscii(ByteArrayOutputStream out, String s) {
        for (int i = 0; i < s.length(); i++) {
            out.write(s.charAt(i));
        }
    }

    /** Appends text that is already valid compact JSON, as UTF-8. */
    public static void writeRaw(ByteArrayOutputStream out, String json) {
        out.writeBytes(json.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Appends a ServiceUpdate object: keys {@code Name, Addr, Online, Attrs, Created} in that order,
     * {@code Attrs} {@code null}, {@code {}} or an object with keys in Go's (byte-wise) order, {@code
     * Created} unsigned decimal (PROTOCOL.md §4.3).
     */
    public static void writeUpdate(ByteArrayOutputStream out, ServiceUpdate u) {
        writeAscii(out, "{\"Name\":");
        writeString(out, u.name());
        writeAscii(out, ",\"Addr\":");
        writeString(out, u.addr());
        writeAscii(out, u.online() ? ",\"Online\":true,\"Attrs\":" : ",\"Online\":false,\"Attrs\":");
        writeMap(out, u.attrs());
        writeAscii(out, ",\"Created\":");
        writeAscii(out, Long.toUnsignedString(u.created()));
        out.write('}');
    }

    /** Appends a string map as an object with sorted keys, or {@code null}. */
    public static void writeMap(ByteArrayOutputStream out, Map<String, String> m) {
        if (m == null) {
            writeAscii(out, "null");
            return;
        }
        List<String> keys = new ArrayList<>(m.keySet());
        keys.sort(GoJson::compareCodePoints);
        out.write('{');
        boolean first = true;
        for (String k : keys) {
            if (!first) {
                out.write(',');
            }
            first = false;
            writeString(out, k);
            out.write(':');
            String v = m.get(k);
            writeString(out, v == null ? "" : v);
        }
        out.write('}');
    }

    /** Go orders strings by UTF-8 bytes, which is code point order (not UTF-16 order). */
    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
