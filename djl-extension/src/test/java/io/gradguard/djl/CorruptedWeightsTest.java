package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.Trainer;
import com.fasterxml.jackson.databind.JsonNode;
import io.gradguard.core.GuardConfig;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights corrupted by something else between two steps (one weight set to NaN at step 150 of a healthy run,
 * PyTorch engine): unguarded the run ends NaN; under the loop guard every step from then on is non-finite, the
 * guard rolls back to its last healthy snapshot, and the run ends finite. What is lost: the rollback also cuts the
 * learning rate, as for an explosion (measured: 1.67x the reference at the end); weights corrupted from outside
 * are not the learning rate's fault, and telling the two apart is still to do.
 */
class CorruptedWeightsTest {

    @TempDir
    Path dir;

    private static float run(DeepMlpScenario s, DjlGuard guard) {
        try (ScenarioRun run = s.open(Variant.REFERENCE); Trainer t = run.newTrainer()) {
            AtomicInteger step = new AtomicInteger();
            run.trainByHand(t, (tr, loss) -> {
                if (step.getAndIncrement() == 150) {
                    NDArray w = tr.getModel().getBlock().getParameters().get(0).getValue().getArray();
                    w.set(new NDIndex("0, 0"), Float.NaN);
                }
                if (guard == null) {
                    tr.step();
                } else {
                    guard.step(tr, loss);
                }
            });
            return run.evalLoss(t);
        }
    }

    @Test
    void aNaNWrittenIntoTheWeightsIsRolledBack() {
        DeepMlpScenario s = new DeepMlpScenario();
        float reference = Train.bare(s, Variant.REFERENCE);
        assertThat(run(s, null)).as("unguarded").isNaN();
        Path log = dir.resolve("corrupt.jsonl");
        float guarded;
        try (DjlGuard guard = new DjlGuard(GuardConfig.custom().log(log).build())) {
            guarded = run(s, guard);
        }
        List<JsonNode> rollbacks = Train.events(Train.readLog(log), "rollback");
        assertThat(rollbacks).isNotEmpty();
        assertThat(rollbacks.get(0).path("to_step").asLong()).isLessThanOrEqualTo(150);
        assertThat(guarded).as("guarded vs reference %s", reference).isFinite().isLessThan(2f * reference);
        assertThat(rollbacks.get(0).path("lr_scale").asDouble()).as("the cut that is lost").isLessThan(1.0);
    }
}
