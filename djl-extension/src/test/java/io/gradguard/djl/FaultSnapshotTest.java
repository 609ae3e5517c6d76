package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import ai.djl.training.tracker.Tracker;
import com.fasterxml.jackson.databind.JsonNode;
import io.gradguard.core.GuardConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault suite, a snapshot that cannot be taken (PyTorch engine): a user's optimizer keeps a state array that it
 * releases after each update, so copying it fails as an allocation that fails on a full device would. The guard
 * turns rollback off with one warning and guards on with its in-step rungs (skip, clip); nothing else changes.
 */
class FaultSnapshotTest {

    @TempDir
    Path dir;

    /**
     * Plain SGD that keeps a scratch copy of the last update in a field and releases it after use. With
     * {@code tracked}, its rate comes from a {@link ParameterTracker} field, as DJL's own optimizers do, so the
     * guard can scale it; without, it is a bare float the guard cannot reach.
     */
    static final class ScratchSgd extends Optimizer {
        private final ParameterTracker learningRateTracker;
        private final float lr;
        private NDArray scratch;

        ScratchSgd(float lr, boolean tracked) {
            super(new OptimizerBuilder<>() {
                @Override
                protected OptimizerBuilder<?> self() {
                    return this;
                }
            });
            this.learningRateTracker = tracked ? Tracker.fixed(lr) : null;
            this.lr = lr;
        }

        @Override
        public void update(String parameterId, NDArray weight, NDArray grad) {
            float rate = learningRateTracker == null ? lr : learningRateTracker.getNewValue(parameterId, updateCount(parameterId));
            scratch = grad.mul(rate);
            weight.subi(scratch);
            scratch.close();
        }
    }

    /** Trains a 16 -> 1 linear model for 40 steps; with {@code badBatch} the batch at step 20 is 1e4 times too large. */
    private static float train(DjlGuard guard, boolean tracked) {
        return train(guard, tracked, true);
    }

    private static float train(DjlGuard guard, boolean tracked, boolean badBatch) {
        try (Model model = Model.newInstance("scratch")) {
            model.setBlock(Linear.builder().setUnits(1).build());
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss()).optOptimizer(new ScratchSgd(0.05f, tracked));
            try (Trainer t = model.newTrainer(config)) {
                t.initialize(new Shape(8, 16));
                NDManager m = t.getManager();
                m.getEngine().setRandomSeed(7);
                for (int s = 0; s < 40; s++) {
                    try (NDManager step = m.newSubManager()) {
                        NDArray x = step.randomNormal(new Shape(8, 16)).mul(s == 20 && badBatch ? 1e4f : 1f);
                        NDArray y = x.sum(new int[] {1}, true);
                        NDArray loss;
                        try (GradientCollector c = t.newGradientCollector()) {
                            loss = t.getLoss().evaluate(new NDList(y), t.forward(new NDList(x)));
                            c.backward(loss);
                        }
                        if (guard == null) {
                            t.step();
                        } else {
                            guard.step(t, loss);
                        }
                    }
                }
                try (NDManager eval = m.newSubManager()) {
                    NDArray x = eval.randomNormal(new Shape(64, 16));
                    return t.getLoss().evaluate(new NDList(x.sum(new int[] {1}, true)), t.forward(new NDList(x))).getFloat();
                }
            }
        }
    }

    @Test
    void aSnapshotThatCannotBeTakenTurnsRollbackOffWithOneWarning() {
        float unguarded = train(null, true);
        assertThat(unguarded).as("unguarded: the 1e4 batch ruins the run").matches(l -> !Float.isFinite(l) || l > 1e3f);
        Path log = dir.resolve("snapshot.jsonl");
        float guarded;
        long steps;
        // the first snapshot (before any update, no scratch array yet) succeeds; the next, after updates, fails
        try (DjlGuard guard = new DjlGuard(GuardConfig.custom().log(log).snapshotEvery(5).build())) {
            guarded = train(guard, true);
            steps = guard.summary().steps();
        }
        List<JsonNode> lines = Train.readLog(log);
        List<JsonNode> warnings = Train.events(lines, "warning");
        assertThat(warnings).as("one warning").hasSize(1);
        assertThat(warnings.get(0).path("detail").asText()).contains("rollback disabled").contains("snapshot failed");
        // the guard announces the snapshot it asked for; the warning right after it says that the copy failed
        long failedAt = warnings.get(0).path("step").asLong();
        assertThat(Train.events(lines, "snapshot")).extracting(e -> e.path("step").asLong()).containsExactly(0L, failedAt);
        assertThat(steps).as("guarded to the end").isEqualTo(40);
        assertThat(Train.events(lines, "spike")).extracting(e -> e.path("step").asLong()).contains(20L);
        float clean = train(null, true, false);
        assertThat(guarded).as("the bad batch was skipped; without it the run ends at %s", clean).isFinite()
                .isLessThan(1.25f * clean);
    }

    /**
     * An optimizer whose learning rate the guard cannot reach: rollback is off from the start, and the warning
     * that says so is in the event log (it is raised before the log opens, so the guard holds it until then).
     */
    @Test
    void anOptimizerWithoutATrackerIsNamedInTheLog() {
        Path log = dir.resolve("untracked.jsonl");
        try (DjlGuard guard = new DjlGuard(GuardConfig.custom().log(log).build())) {
            train(guard, false);
        }
        List<JsonNode> warnings = Train.events(Train.readLog(log), "warning");
        assertThat(warnings).hasSize(1);
        assertThat(warnings.get(0).path("detail").asText()).contains("rollback disabled")
                .contains("ScratchSgd has no learning-rate tracker field");
    }
}
