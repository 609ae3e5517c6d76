package io.gradguard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each key is declared once: its description, its default, its parser and its read-back agree. */
class ConfigKeysTest {

    /** A valid value other than the default for every key that {@link GuardConfig#asMap()} lists. */
    private static final Map<String, String> OTHER_VALUES = new LinkedHashMap<>();

    static {
        OTHER_VALUES.put("policy", "monitor");
        OTHER_VALUES.put("clip.norm", "2.5");
        OTHER_VALUES.put("log", "/tmp/run.jsonl");
        OTHER_VALUES.put("snapshot.location", "host");
        OTHER_VALUES.put("spike.z", "5.0");
        OTHER_VALUES.put("spike.ratio", "8.0");
        OTHER_VALUES.put("spike.calm", "15.0");
        OTHER_VALUES.put("spike.alpha", "0.9");
        OTHER_VALUES.put("spike.warmup", "30");
        OTHER_VALUES.put("loss.z", "4.0");
        OTHER_VALUES.put("loss.ratio", "2.0");
        OTHER_VALUES.put("loss.patience", "5");
        OTHER_VALUES.put("skip.ratio", "40.0");
        OTHER_VALUES.put("skip.max", "4");
        OTHER_VALUES.put("nonfinite.max", "2");
        OTHER_VALUES.put("growth.steps", "10");
        OTHER_VALUES.put("rise.ratio", "0.0");
        OTHER_VALUES.put("regress.ratio", "4.0");
        OTHER_VALUES.put("slide.ratio", "0.0");
        OTHER_VALUES.put("collapse.drop", "0.0");
        OTHER_VALUES.put("collapse.quiet", "100.0");
        OTHER_VALUES.put("dead.share", "0.5");
        OTHER_VALUES.put("snapshot.every", "25");
        OTHER_VALUES.put("rollback.cut", "0.5");
        OTHER_VALUES.put("rollback.max", "3");
        OTHER_VALUES.put("rollback.spent", "halt");
        OTHER_VALUES.put("rollback.skip", "2");
        OTHER_VALUES.put("rewarm.steps", "50");
        OTHER_VALUES.put("rewarm.target", "0.6");
        OTHER_VALUES.put("lr.floor", "0.01");
        OTHER_VALUES.put("fold.rate", "1.0");
        OTHER_VALUES.put("stall.steps", "40");
        OTHER_VALUES.put("recovery.clip", "2.0");
        OTHER_VALUES.put("recovery.percentile", "25.0");
        OTHER_VALUES.put("layers.every", "0");
    }

    @Test
    void everyDescriptionNamesTheEffectiveDefault() {
        Map<String, String> defaults = GuardConfig.ofDefaults().asMap();
        assertThat(ConfigKeys.descriptions().keySet()).containsAll(defaults.keySet()).contains("enabled");
        defaults.forEach((key, value) -> assertThat(ConfigKeys.descriptions().get(key))
                .as(key).contains("(default " + (value.isEmpty() ? "none" : value) + ")"));
    }

    @Test
    void everyKeyParsesReadsBackAndIsCopiedByFrom() {
        assertThat(OTHER_VALUES.keySet()).isEqualTo(GuardConfig.ofDefaults().asMap().keySet());
        GuardConfig.Builder b = GuardConfig.custom();
        OTHER_VALUES.forEach((key, value) -> b.set(key, value, "test"));
        GuardConfig c = b.build();
        assertThat(c.asMap()).isEqualTo(new TreeMap<>(OTHER_VALUES));
        GuardConfig.ofDefaults().asMap().forEach((key, value) ->
                assertThat(c.asMap().get(key)).as(key).isNotEqualTo(value));
        assertThat(GuardConfig.from(c).build()).isEqualTo(c).hasToString(c.toString());
        assertThat(ConfigSources.parse(String.join(",", c.asMap().entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue()).toList()))).isEqualTo(c);
    }

    @Test
    void eachConcernChecksItsOwnRangesNamingKeyValueAndSource() {
        assertThatThrownBy(() -> GuardConfig.custom().set("rise.ratio", "0.5", "system property gradguard.rise.ratio"))
                .hasMessage("GradGuard config 'rise.ratio' must be a finite number greater than 1.0, but was '0.5'"
                        + " (from system property gradguard.rise.ratio)");
        assertThatThrownBy(() -> GuardConfig.custom().foldRate(1.5))
                .hasMessage("GradGuard config 'fold.rate' must be 0 or a number in (0, 1], but was '1.5' (from builder)");
        assertThatThrownBy(() -> GuardConfig.custom().recoveryPercentile(100))
                .hasMessage("GradGuard config 'recovery.percentile' must be 0 or a number strictly between 0 and 100, but was"
                        + " '100.0' (from builder)");
        assertThatThrownBy(() -> GuardConfig.custom().set("recovery.percentile", "-5", "agent arg"))
                .hasMessageContaining("'recovery.percentile' must be 0 or a number strictly between 0 and 100, but was '-5.0'")
                .hasMessageContaining("(from agent arg)");
        assertThatThrownBy(() -> GuardConfig.custom().layersEvery(-1))
                .hasMessage("GradGuard config 'layers.every' must be an integer >= 0, but was '-1' (from builder)");
        assertThatThrownBy(() -> GuardConfig.custom().set("rewarm.steps", "1.5", "text"))
                .hasMessage("GradGuard config 'rewarm.steps' must be an integer >= 0, but was '1.5' (from text)");
        assertThat(GuardConfig.custom().regressRatio(0).collapseDrop(0).recoveryClip(0).foldRate(0).build().asMap())
                .containsEntry("regress.ratio", "0.0").containsEntry("fold.rate", "0.0");
    }

    @Test
    void otherComponentsDeclareTheirKeysInAResource(@TempDir Path dir) throws IOException {
        Path list = dir.resolve(OtherKeys.RESOURCE);
        Files.createDirectories(list.getParent());
        Files.writeString(list, "# the agent's switches\nstrict\n\n  djl.enabled  \n");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, null)) {
            assertThat(OtherKeys.find(loader)).containsExactly("strict", "djl.enabled");
        }
        assertThat(OtherKeys.keys()).as("the core declares no key of another component").isEmpty();
    }
}
