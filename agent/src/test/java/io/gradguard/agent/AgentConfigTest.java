package io.gradguard.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link AgentConfig#guardForRun}: the first guarded run writes the configured log, each later one a numbered sibling. */
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
}
