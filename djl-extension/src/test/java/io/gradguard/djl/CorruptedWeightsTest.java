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
 * guard sees that the parameters themselves turned non-finite right after a healthy update, rolls back to its last
 * snapshot at once and keeps the learning rate (the {@code corrupted_weights} rule: the rate is not to blame). The
 * snapshot due at step 150 itself is not taken, because the weights were already corrupted when it was due. What
 * is lost: the steps since the last snapshot.
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
        List<JsonNode> lines = Train.readLog(log);
        List<JsonNode> rollbacks = Train.events(lines, "rollback");
        // the NaN is written after backward, before the update of step 150: that step's gradients are finite, and
        // the snapshot due then would hold the corrupted weight
        assertThat(Train.events(lines, "warning")).extracting(e -> e.path("detail").asText())
                .anyMatch(d -> d.startsWith("no snapshot at step 150"));
        assertThat(rollbacks).isNotEmpty();
        assertThat(rollbacks.get(0).path("to_step").asLong()).isLessThanOrEqualTo(150);
        assertThat(rollbacks).hasSize(1);
        assertThat(rollbacks.get(0).path("lr_scale").asDouble()).as("not the learning rate's doing: no cut").isEqualTo(1.0);
        assertThat(rollbacks.get(0).path("detail").asText()).contains("corrupted from outside");
        assertThat(guarded).as("guarded vs reference %s", reference).isFinite().isLessThan(1.15f * reference);
    }
}
