package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.GuardConfig;
import io.gradguard.models.Scenario;
import io.gradguard.models.Scenarios;
import io.gradguard.models.Variant;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A healthy run pays nothing in quality: at each scenario's tuned learning rate the guarded run (listener
 * and loop guard alike) ends with the same loss as the unguarded one, because the default policy leaves
 * healthy gradients alone.
 */
class HealthyRunTest {

    @TempDir
    Path dir;

    static Stream<Scenario> scenarios() {
        return Scenarios.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void guardedHealthyRunEndsWithTheSameLoss(Scenario s) {
        float unguarded = Train.bare(s, Variant.REFERENCE);
        Train.Result viaListener = Train.listener(s, Variant.REFERENCE, GuardConfig.ofDefaults(), dir.resolve("l.jsonl"));
        Train.Result viaLoop = Train.loop(s, Variant.REFERENCE, GuardConfig.ofDefaults(), dir.resolve("g.jsonl"));
        assertThat(viaListener.evalLoss()).isEqualTo(unguarded);
        assertThat(viaLoop.evalLoss()).isEqualTo(unguarded);
        assertThat(viaListener.summary().intervened()).isFalse();
        assertThat(viaListener.summary().steps()).isEqualTo(s.steps());
        assertThat(Train.ofType(viaListener.lines(), "step")).hasSize(s.steps());
    }
}
