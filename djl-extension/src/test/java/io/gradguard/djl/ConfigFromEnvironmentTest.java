package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gradguard.core.InvalidConfigException;
import io.gradguard.core.Policy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The no-arg listener and loop guard read {@code gradguard.*} system properties. */
class ConfigFromEnvironmentTest {

    @AfterEach
    void clear() {
        System.clearProperty("gradguard.policy");
        System.clearProperty("gradguard.clip.norm");
    }

    @Test
    void noArgConstructorsReadSystemProperties() {
        System.setProperty("gradguard.policy", "clip");
        System.setProperty("gradguard.clip.norm", "0.5");
        try (GradGuardListener l = new GradGuardListener(); DjlGuard g = new DjlGuard()) {
            assertThat(l.guard().config().policy()).isEqualTo(Policy.CLIP);
            assertThat(g.guard().config().clipNorm()).hasValue(0.5);
        }
    }

    @Test
    void badPropertyNamesKeyValueAndSource() {
        System.setProperty("gradguard.policy", "bogus");
        assertThatThrownBy(GradGuardListener::new)
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("GradGuard config 'policy' must be one of auto, clip, monitor, off, but was 'bogus'"
                        + " (from system property gradguard.policy)");
    }
}
