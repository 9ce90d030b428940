package io.discoverd.protocol.jsonrpc;

import java.io.ByteArrayOutputStream;

/** UTF-8 validation with Go's repair rule: each byte of an invalid sequence becomes U+FFFD. */
final class Utf8 {

    private Utf8() {
    }

    /** Null when {@code b[from, to)} is valid UTF-8; else a repaired copy of that range. */
    static byte[] sanitize(byte[] b, int from, int to) {
        int i = from;
        while (i < to && b[i] >= 0) {
            i++;
        }
        if (i == to) {
            return null;
        }
        int firstBad = -1;
        for (int j = i; j < to; ) {
            int n = validLength(b, j, to);
            if (n == 0) {
                firstBad = j;
                break;
            }
            j += n;
        }
        if (firstBad < 0) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(to - from + 16);
        out.write(b, from, firstBad - from);
        for (int j = firstBad; j < to; ) {
            int n = validLength(b, j, to);
            if (n == 0) {
                out.write(0xef);
                out.write(0xbf);
                out.write(0xbd);
                j++;
            } else {
                out.write(b, j, n);
                j += n;
            }
        }
        return out.toByteArray();
    }

    /** Length of the valid sequence at {@code i}, or 0 when invalid (overlong, surrogate, truncated). */
    private static int validLength(byte[] b, int i, int to) {
        int c = b[i] & 0xff;
        if (c < 0x80) {
            return 1;
        }
        int n;
        int lo = 0x80;
        int hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            if (c == 0xe0) {
                lo = 0xa0;
            } else if (c == 0xed) {
                hi = 0x9f;
            }
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            if (c == 0xf0) {
                lo = 0x90;
            } else if (c == 0xf4) {
                hi = 0x8f;
            }
        } else {
            return 0;
        }
        if (i + n > to) {
            return 0;
        }
        int c1 = b[i + 1] & 0xff;
        if (c1 < lo || c1 > hi) {
            return 0;
        }
        for (int k = 2; k < n; k++) {
            int ck = b[i + k] & 0xff;
            if (ck < 0x80 || ck > 0xbf) {
                return 0;
            }
        }
        return n;
    }
}
