package io.discoverd.it.gob;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.discoverd.it.Backend;
import io.discoverd.it.DaemonProcess;
import io.discoverd.it.EachBackend;
import io.discoverd.it.StoreAndDaemon;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

/**
 * The PROTOCOL.md §8 checklist items that one daemon with the default TTL can show, driven in gob
 * by the Go interop client: one test per scenario subcommand, each on its own service names so
 * that the scenarios share the daemon.
 */
@EachBackend
class GobScenarioTest {

    /** The store of this run (see {@link EachBackend}). */
    @Parameter
    Backend backend;

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;
    private static StoreAndDaemon env;
    private static DaemonProcess daemon;

    @BeforeParameterizedClassInvocation
    static void startDaemon(Backend backend) throws Exception {
        env = StoreAndDaemon.start(backend, tmp, "");
        daemon = env.daemon();
    }

    @AfterParameterizedClassInvocation
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @AfterEach
    void daemonStillRuns() {
        assertTrue(daemon.isAlive(), () -> "the daemon died:\n" + daemon.output());
    }

    private static void scenario(String name, String items) throws Exception {
        GoClient.Result r = GoClient.run(TIMEOUT, name, "-addr=" + daemon.address());
        GoClient.assertPassed(r, name, items, daemon.output());
    }

    @Test
    @DisplayName("unknown, ill-formed and removed methods get the exact errors; the connection stays usable [#12 #13]")
    void everyServiceMethodOfTheDispatchTableGetsItsErrorAndTheConnectionStaysUsable() throws Exception {
        scenario("method-errors", "[#12 #13]");
    }

    @Test
    @DisplayName("Args defined before its map type, as Go clients send it, is accepted [#15]")
    void argsDefinedBeforeItsMapTypeIsAccepted() throws Exception {
        scenario("args-before-map", "[#15]");
    }

    @Test
    @DisplayName("definitions of unused types before a header are accepted and ignored [#16]")
    void definitionsOfUnusedTypesAreAcceptedAndIgnored() throws Exception {
        scenario("unused-definitions", "[#16]");
    }

    @Test
    @DisplayName("Seq declared as int, a string header, a duplicate definition: connection closed without a response; a new connection works [#17]")
    void undecodableHeadersCloseTheConnectionWithoutResponse() throws Exception {
        scenario("fatal-header", "[#17]");
    }

    @Test
    @DisplayName("Attrs as map[string]int and an Args sharing no field: call errors; an extra field is ignored [#18 #19]")
    void badArgsBodiesAreCallErrorsAndExtraFieldsAreIgnored() throws Exception {
        scenario("body-decode-errors", "[#18 #19]");
    }

    @Test
    @DisplayName("Seq 0, 127, 128, 2^32 and 2^64-1 are echoed exactly [#20]")
    void seqValuesAreEchoedExactly() throws Exception {
        scenario("seq-values", "[#20]");
    }

    @Test
    @DisplayName("50 Registers sent without waiting get 50 replies, each Seq once [#21]")
    void fiftyPipelinedRegistersGetOneReplyEach() throws Exception {
        scenario("pipelined-registers", "[#21]");
    }

    @Test
    @DisplayName("100 concurrent first calls of different kinds: each server type defined once, before its first use [#22]")
    void concurrentFirstCallsDefineEachServerTypeOnce() throws Exception {
        scenario("concurrent-first-calls", "[#22]");
    }

    @Test
    @DisplayName("a body of a type the server never saw, on an unknown method, is consumed; later requests decode [#23]")
    void bodiesOfUnknownTypesOnUnknownMethodsAreConsumed() throws Exception {
        scenario("unknown-body-type", "[#23]");
    }

    @Test
    @DisplayName("Register expands :port with EXTERNAL_IP and keeps full addresses as given [#24]")
    void registerExpandsPortOnlyAddressesAndKeepsOthers() throws Exception {
        scenario("register-forms", "[#24]");
    }

    @Test
    @DisplayName("Unregister: empty Addr, unknown instance, twice, and success with an empty struct [#26 #27 #28]")
    void unregisterChecksAddressAndReportsUnknownInstances() throws Exception {
        scenario("unregister", "[#26 #27 #28]");
    }

    @Test
    @DisplayName("Subscribe to a name without instances: the sentinel only, then nothing until a change [#30]")
    void subscribeToUnusedNameGetsTheSentinelOnly() throws Exception {
        scenario("subscribe-empty", "[#30]");
    }

    @Test
    @DisplayName("a heartbeat gets a reply and produces no stream item [#31]")
    void heartbeatsProduceNoStreamItem() throws Exception {
        scenario("subscribe-heartbeat-no-item", "[#31]");
    }

    @Test
    @DisplayName("each attribute change (including nil to {}) gives one online item with the same Created [#32 #33]")
    void attributeChangesProduceOneItemWithTheSameCreated() throws Exception {
        scenario("subscribe-attr-change", "[#32 #33]");
    }

    @Test
    @DisplayName("Unregister gives one offline item carrying only Name and Addr [#34]")
    void unregisterProducesAnOfflineItemWithNameAndAddrOnly() throws Exception {
        scenario("subscribe-offline-item", "[#34]");
    }

    @Test
    @DisplayName("Register then Unregister at once: online item, then offline item [#35]")
    void registerThenUnregisterAtOnceGivesOnlineThenOffline() throws Exception {
        scenario("register-unregister-at-once", "[#35]");
    }

    @Test
    @DisplayName("CloseStream: EOS within 1 s without a further event, no reply, nothing after; unknown Seq ignored [#38 #39]")
    void closeStreamEndsTheStreamPromptlyAndUnknownSeqIsIgnored() throws Exception {
        scenario("closestream", "[#38 #39]");
    }

    @Test
    @DisplayName("two streams on one name (one and two connections) see identical sequences; a third name sees nothing [#41]")
    void streamsOnOneNameSeeIdenticalSequencesAndOthersNothing() throws Exception {
        scenario("fanout", "[#41]");
    }

    @Test
    @DisplayName("a Subscribe during 100 concurrent Registers sees each instance exactly once [#42]")
    void subscribeDuringHundredConcurrentRegistersSeesEachOnce() throws Exception {
        scenario("subscribe-during-registers", "[#42]");
    }

    @Test
    @DisplayName("a name with '/' is exact or refused with discoverd: invalid Name; its prefix and \"\" see nothing [#43]")
    void namesWithSlashAreOpaqueOrRefused() throws Exception {
        scenario("slash-names", "[#43]");
    }

    @Test
    @DisplayName("Created strictly increasing with registration, unchanged by heartbeats and attribute changes, unique across names [#45]")
    void createdIncreasesWithRegistrationAndNeverChanges() throws Exception {
        scenario("created-order", "[#45]");
    }

    @Test
    @DisplayName("a Subscribe after a Register or Unregister reply reflects it (single daemon) [#49]")
    void subscribeAfterAReplyReflectsTheWrite() throws Exception {
        scenario("read-your-writes", "[#49]");
    }

    @Test
    @DisplayName("Agent.Leader returns the online instance with the smallest Created, or discoverd: no leader for <Name> [§5.11]")
    void leaderExtensionReturnsTheOldestOnlineInstance() throws Exception {
        scenario("leader", "[§5.11]");
    }

    @Test
    @DisplayName("random and mutated bytes after the upgrade: the daemon survives; other connections unaffected [#55]")
    void randomAndMutatedBytesNeitherStopTheDaemonNorDisturbOthers() throws Exception {
        scenario("garbage", "[#55]");
    }
}
