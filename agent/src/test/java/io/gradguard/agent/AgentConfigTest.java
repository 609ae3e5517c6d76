package io.gradguard.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gradguard.core.ConfigKeys;
import io.gradguard.core.ConfigSources;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.InvalidConfigException;
import io.gradguard.core.Policy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's own keys, read from the agent arguments, system properties and environment beside the guard's; and
 * {@link AgentConfig#guardForRun}: the first guarded run writes the configured log, each later one a numbered sibling.
 */
class AgentConfigTest {

    @Test
    void laterRunsWriteNumberedSiblingsOfTheLog(@TempDir Path dir) {
        Path log = dir.resolve("run.jsonl");
        AgentConfig c = AgentConfig.read("log=" + log, new Properties(), Map.of());
        assertThat(c.guardForRun(1)).isSameAs(c.guard());
        assertThat(c.guardForRun(2).log()).isEqualTo(dir.resolve("run-2.jsonl"));
        assertThat(c.guardForRun(12).log()).isEqualTo(dir.resolve("run-12.jsonl"));
        assertThat(AgentConfig.numbered(dir.resolve("events"), 3)).isEqualTo(dir.resolve("events-3"));
        assertThat(AgentConfig.numbered(dir.resolve(".hidden"), 2)).isEqualTo(dir.resolve(".hidden-2"));
    }

    @Test
    void withoutALogEveryRunGetsTheSameConfiguration() {
        AgentConfig c = AgentConfig.read("", new Properties(), Map.of());
        assertThat(c.guard().log()).isNull();
        assertThat(c.guardForRun(5)).isSameAs(c.guard());
    }

    @Test
    void agentKeysAreReadFromEverySourceArgumentsFirst() {
        assertThat(AgentConfig.read("", new Properties(), Map.of()))
                .returns(false, AgentConfig::strict).returns(true, AgentConfig::djl).returns(true, AgentConfig::tensorflow);
        Properties props = new Properties();
        props.setProperty("gradguard.djl.enabled", "false");
        props.setProperty("gradguard.policy", "monitor");
        AgentConfig c = AgentConfig.read("strict=true,policy=clip", props, Map.of("GRADGUARD_TENSORFLOW_ENABLED", "FALSE",
                "GRADGUARD_DJL_ENABLED", "true"));
        assertThat(c).returns(true, AgentConfig::strict).returns(false, AgentConfig::djl)
                .returns(false, AgentConfig::tensorflow);
        assertThat(c.guard().policy()).isEqualTo(Policy.CLIP);
        assertThat(c.toString()).endsWith(", strict=true, djl.enabled=false, tensorflow.enabled=false");
    }

    @Test
    void badAgentValuesNameKeyValueAndSourceEvenWhenOverridden() {
        assertThatThrownBy(() -> AgentConfig.read("strict=maybe", new Properties(), Map.of()))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("GradGuard config 'strict' must be true or false, but was 'maybe' (from agent argument)");
        Properties props = new Properties();
        props.setProperty("gradguard.djl.enabled", "no");
        assertThatThrownBy(() -> AgentConfig.read("djl.enabled=true", props, Map.of()))
                .hasMessage("GradGuard config 'djl.enabled' must be true or false, but was 'no'"
                        + " (from system property gradguard.djl.enabled)");
        assertThatThrownBy(() -> AgentConfig.read(null, new Properties(), Map.of("GRADGUARD_TENSORFLOW_ENABLED", "1")))
                .hasMessage("GradGuard config 'tensorflow.enabled' must be true or false, but was '1'"
                        + " (from environment variable GRADGUARD_TENSORFLOW_ENABLED)");
    }

    @Test
    void unknownKeysAreRejectedNamingTheGuardsAndTheAgentsKeys() {
        assertThatThrownBy(() -> AgentConfig.read("stirct=true", new Properties(), Map.of()))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith("GradGuard config 'stirct' must be set under a known key (known keys: enabled, policy, ")
                .hasMessageContaining(", strict, djl.enabled, tensorflow.enabled)")
                .hasMessageEndingWith("but was 'true' (from agent argument)");
        Properties typo = new Properties();
        typo.setProperty("gradguard.djl.enable", "false");
        assertThatThrownBy(() -> AgentConfig.read(null, typo, Map.of()))
                .hasMessageContaining("'djl.enable' must be set under a known key");
    }

    @Test
    void theGuardsOwnSourcesLeaveTheAgentKeysToTheAgent() {
        Properties props = new Properties();
        props.setProperty("gradguard.strict", "true");
        props.setProperty("gradguard.tensorflow.enabled", "false");
        assertThat(ConfigSources.resolve(GuardConfig.ofDefaults(), "djl.enabled=false", props, Map.of()))
                .isEqualTo(GuardConfig.ofDefaults());
        assertThat(ConfigKeys.descriptions()).doesNotContainKeys(AgentConfig.STRICT, AgentConfig.DJL_ENABLED,
                AgentConfig.TENSORFLOW_ENABLED);
    }

    @Test
    void theJarDeclaresExactlyTheAgentsKeys() throws IOException {
        try (InputStream in = AgentConfig.class.getClassLoader().getResourceAsStream("META-INF/gradguard/config-keys")) {
            assertThat(in).isNotNull();
            String[] declared = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::trim)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).toArray(String[]::new);
            assertThat(Arrays.asList(declared)).containsExactlyElementsOf(AgentConfig.descriptions().keySet());
        }
        assertThat(AgentConfig.descriptions()).containsEntry(AgentConfig.STRICT,
                "true | false (default false): fail at startup instead of running unguarded");
    }
}
