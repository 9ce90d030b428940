package io.discoverd.server.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AgentMethodTest {

    @Test
    void resolve_knownMethods_areFound() throws Exception {
        assertEquals(AgentMethod.REGISTER, AgentMethod.resolve("Agent.Register"));
        assertEquals(AgentMethod.UNREGISTER, AgentMethod.resolve("Agent.Unregister"));
        assertEquals(AgentMethod.SUBSCRIBE, AgentMethod.resolve("Agent.Subscribe"));
        assertEquals(AgentMethod.LEADER, AgentMethod.resolve("Agent.Leader"));
    }

    /** PROTOCOL.md §2.5 table. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
        "Agent.Nope|rpc: can't find method Agent.Nope",
        "Nope.Register|rpc: can't find service Nope.Register",
        "agent.Register|rpc: can't find service agent.Register",
        "Agent.register|rpc: can't find method Agent.register",
        "Bad|rpc: service/method request ill-formed: Bad",
        "Agent.Register.X|rpc: service/method request ill-formed: Agent.Register.X",
        "''|'rpc: service/method request ill-formed: '",
        "Agent.|rpc: can't find method Agent.",
        ".Register|rpc: can't find service .Register",
        "Agent.Heartbeat|rpc: can't find method Agent.Heartbeat",
    })
    void resolve_unknownOrIllFormed_givesTheOriginalsText(String serviceMethod, String error) {
        var e = assertThrows(AgentMethod.UnknownMethodException.class, () -> AgentMethod.resolve(serviceMethod));
        assertEquals(error, e.getMessage());
    }
}
