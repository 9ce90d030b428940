package io.discoverd.protocol.gob;

/**
 * The gob type ids a server gives its four types (PROTOCOL.md §3.6). Fixed process-wide; tests use
 * other values to compare with recordings byte for byte.
 */
record ServerTypeIds(int response, int empty, int serviceUpdate, int map) {

    /** The ids this server uses: 65 Response, 66 empty struct, 67 ServiceUpdate, 68 map[string]string. */
    static final ServerTypeIds DEFAULT = new ServerTypeIds(65, 66, 67, 68);

    /** The ids of the original server in {@code testdata/wire/gob-*.txt}. */
    static final ServerTypeIds RECORDING = new ServerTypeIds(68, 69, 70, 67);
}
