package io.gradguard.djl.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.training.Trainer;
import io.gradguard.core.Action;
import io.gradguard.core.Decision;
import io.gradguard.core.GuardConfig;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The guard's device-to-host traffic on the real engine: one copy per step on a healthy run, per-layer
 * weight norms included (they ride in the same copy on their sampled steps), snapshots none.
 */
class HostReadsTest {

    @Test
    void oneHostCopyPerHealthyStep() {
        // layers every 10 steps and a snapshot every 5, so both sampled paths are exercised
        GuardConfig config = GuardConfig.custom().layersEvery(10).snapshotEvery(5).build();
        AtomicInteger steps = new AtomicInteger();
        AtomicInteger acted = new AtomicInteger();
        try (ScenarioRun run = new DeepMlpScenario().open(Variant.REFERENCE); Trainer t = run.newTrainer();
                DjlGuardSession session = new DjlGuardSession(config, "loop")) {
            session.prepare(t, true);
            run.trainByHand(t, (tr, loss) -> {
                Decision d = session.inspect(tr, loss);
                session.carryOut(d, false);
                if (d.action() != Action.STEP) {
                    acted.incrementAndGet();
                }
                tr.step();
                session.stepDone();
                steps.incrementAndGet();
            }, 120);
            assertThat(acted.get()).as("healthy run").isZero();
            assertThat(steps.get()).isEqualTo(120);
            assertThat(session.hostReads()).isEqualTo(120);
        }
    }
}
