package io.gradguard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class GuardConfigTest {

    @Test
    void defaultsAreTheDocumentedOnes() {
        GuardConfig c = GuardConfig.ofDefaults();
        assertThat(c.policy()).isEqualTo(Policy.AUTO);
        assertThat(c.clipNorm()).isEmpty();
        assertThat(c.log()).isNull();
        assertThat(c.spikeZ()).isEqualTo(GuardConfig.DEFAULT_SPIKE_Z);
        assertThat(c.snapshotEvery()).isEqualTo(GuardConfig.DEFAULT_SNAPSHOT_EVERY);
        assertThat(c.snapshotLocation()).isEqualTo(SnapshotLocation.DEVICE);
        assertThat(ConfigKeys.descriptions().keySet()).containsAll(c.asMap().keySet());
    }

    @Test
    void toStringListsEveryKeySorted() {
        String s = GuardConfig.custom().clipNorm(2.5).build().toString();
        assertThat(s).startsWith("GuardConfig{clip.norm=2.5, collapse.drop=10.0, collapse.quiet=300.0, dead.share=0.9, fold.rate=0.3, growth.steps=20");
        assertThat(s).contains("policy=auto").contains("spike.z=6.0").contains("snapshot.location=device");
    }

    @Test
    void builderRejectsOutOfRangeValuesNamingKeyValueRangeAndSource() {
        assertThatThrownBy(() -> GuardConfig.custom().clipNorm(-1))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("GradGuard config 'clip.norm' must be a positive finite number or 'auto', but was '-1.0' (from builder)");
        assertThatThrownBy(() -> GuardConfig.custom().spikeAlpha(1.0))
                .hasMessageContaining("'spike.alpha' must be a number strictly between 0 and 1, but was '1.0'");
        assertThatThrownBy(() -> GuardConfig.custom().spikeWarmup(1))
                .hasMessageContaining("'spike.warmup' must be an integer >= 2, but was '1'");
    }

    @Test
    void buildChecksRulesAcrossKeys() {
        assertThatThrownBy(() -> GuardConfig.custom().spikeRatio(10).skipRatio(5).build())
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("'skip.ratio' must be greater than spike.ratio (10.0)")
                .hasMessageContaining("but was '5.0'");
    }

    @Test
    void parsesKeyValueText() {
        GuardConfig c = ConfigSources.parse("policy=clip, clip.norm=1.5 ,log=/tmp/x.jsonl,layers.every=0,snapshot.location=HOST");
        assertThat(c.policy()).isEqualTo(Policy.CLIP);
        assertThat(c.clipNorm()).hasValue(1.5);
        assertThat(c.log()).isEqualTo(Path.of("/tmp/x.jsonl"));
        assertThat(c.layersEvery()).isZero();
        assertThat(c.snapshotLocation()).isEqualTo(SnapshotLocation.HOST);
        assertThat(ConfigSources.parse("clip.norm=auto").clipNorm()).isEmpty();
        assertThat(ConfigSources.parse("enabled=false").policy()).isEqualTo(Policy.OFF);
    }

    @Test
    void textErrorsNameKeyValueAcceptedAndSource() {
        assertThatThrownBy(() -> ConfigSources.parse("policy=sometimes"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("GradGuard config 'policy' must be one of auto, clip, monitor, off, but was 'sometimes' (from text)");
        assertThatThrownBy(() -> ConfigSources.parse("clip.nrom=1"))
                .hasMessageContaining("'clip.nrom' must be set under a known key (known keys: enabled, policy, spike.z")
                .hasMessageContaining(", clip.norm, ");
        assertThatThrownBy(() -> ConfigSources.parse("clip.norm"))
                .hasMessageContaining("'clip.norm' must be written as key=value");
        assertThatThrownBy(() -> ConfigSources.parse("skip.max=lots"))
                .hasMessageContaining("'skip.max' must be an integer >= 0, but was 'lots'");
        assertThatThrownBy(() -> ConfigSources.parse("enabled=yes"))
                .hasMessageContaining("'enabled' must be true or false, but was 'yes'");
    }

    @Test
    void sourcesOverrideInOrderEnvironmentThenPropertiesThenText() {
        Properties props = new Properties();
        props.setProperty("gradguard.clip.norm", "2.0");
        props.setProperty("gradguard.policy", "monitor");
        props.setProperty("unrelated.key", "x");
        Map<String, String> env = Map.of(
                "GRADGUARD_CLIP_NORM", "3.0", "GRADGUARD_LAYERS_EVERY", "7", "GRADGUARD_UNKNOWN_THING", "ignored");
        GuardConfig c = ConfigSources.resolve(GuardConfig.ofDefaults(), "policy=clip", props, env);
        assertThat(c.policy()).isEqualTo(Policy.CLIP);
        assertThat(c.clipNorm()).hasValue(2.0);
        assertThat(c.layersEvery()).isEqualTo(7);
    }

    @Test
    void propertyAndEnvironmentErrorsNameTheirSource() {
        Properties props = new Properties();
        props.setProperty("gradguard.spike.z", "-3");
        assertThatThrownBy(() -> ConfigSources.resolve(GuardConfig.ofDefaults(), null, props, Map.of()))
                .hasMessageContaining("(from system property gradguard.spike.z)");
        assertThatThrownBy(() -> ConfigSources.resolve(GuardConfig.ofDefaults(), null, new Properties(),
                        Map.of("GRADGUARD_SNAPSHOT_LOCATION", "disk")))
                .hasMessage("GradGuard config 'snapshot.location' must be device or host, but was 'disk'"
                        + " (from environment variable GRADGUARD_SNAPSHOT_LOCATION)");
        Properties typo = new Properties();
        typo.setProperty("gradguard.polcy", "auto");
        assertThatThrownBy(() -> ConfigSources.resolve(GuardConfig.ofDefaults(), null, typo, Map.of()))
                .hasMessageContaining("'polcy' must be set under a known key");
    }

    @Test
    void envNamesAreDerivedMechanically() {
        assertThat(ConfigKeys.envName("clip.norm")).isEqualTo("GRADGUARD_CLIP_NORM");
        assertThat(ConfigKeys.propertyName("layers.every")).isEqualTo("gradguard.layers.every");
    }

    @Test
    void fromCopiesAndEqualsComparesValues() {
        GuardConfig a = GuardConfig.custom().policy(Policy.MONITOR).rollbackCut(0.3).build();
        GuardConfig b = GuardConfig.from(a).build();
        assertThat(b).isEqualTo(a).hasSameHashCodeAs(a);
        assertThat(GuardConfig.from(a).rollbackCut(0.4).build()).isNotEqualTo(a);
    }
}
