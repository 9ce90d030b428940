package io.discoverd.bench.load;

/** Distinct, valid instance addresses for the load: {@code 10.a.b.c:port} from a number. */
public final class Addrs {

    private Addrs() {
    }

    /**
     * The {@code i}-th address of a family; different families never collide.
     *
     * @param family 0–255, e.g. one per scenario
     * @param i      0 to 16,777,215
     */
    public static String of(int family, int i) {
        return (10 + family) % 256 + "." + ((i >> 16) & 255) + "." + ((i >> 8) & 255) + "." + (i & 255) + ":7000";
    }
}
