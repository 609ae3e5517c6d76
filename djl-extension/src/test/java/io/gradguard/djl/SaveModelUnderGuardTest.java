package io.gradguard.djl;

import static io.gradguard.djl.ListenerRuns.finite;
import static io.gradguard.djl.ListenerRuns.same;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.listener.SaveModelTrainingListener;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.listener.TrainingListenerAdapter;
import io.gradguard.core.Action;
import io.gradguard.core.Decision;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.djl.ListenerRuns.SnapshotWeights;
import io.gradguard.models.ScenarioRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DJL's {@link SaveModelTrainingListener} (the successor of {@code CheckpointsTrainingListener}, renamed in DJL
 * 0.10) under the guard, on the real PyTorch engine: a checkpoint written after a rollback holds the weights the
 * guard restored, bit for bit, and not the exploded ones; the model a halted run leaves (saved by the listener
 * when the trainer closes) is the last healthy snapshot. Unguarded, the same checkpoints hold NaN.
 *
 * <p>The run: the deep MLP at its tuned rate with a schedule that raises the rate 30x after update 80
 * ({@link ListenerRuns#openJump()}). Guarded, it is rolled back at step 84 to the first snapshot, and again at
 * step 166 to a snapshot taken after the first rollback (before step 144).
 */
class SaveModelUnderGuardTest {

    private static final String NAME = "ckpt";

    @TempDir
    Path dir;

    /** The first rollback to a snapshot other than the one before step 0. */
    private static GuardEvent laterRollback(SnapshotWeights seen) {
        return seen.rollbacks.stream().filter(e -> SnapshotWeights.toStep(e) > 0).findFirst()
                .orElseThrow(() -> new AssertionError("no rollback to a later snapshot: " + seen.rollbacks));
    }

    /** Records the weights each step starts from, before the guard looks at the step (add it before the guard). */
    private static final class WeightsBeforeGuard extends TrainingListenerAdapter {
        final List<float[][]> byStep = new ArrayList<>();

        @Override
        public void onTrainingBatch(Trainer trainer, BatchData batchData) {
            byStep.add(ListenerRuns.weights(trainer.getModel()));
        }
    }

    /**
     * EasyTrain.fit over {@code batches} batches, one epoch, with a checkpoint at its end.
     *
     * @return the guard's snapshots and rollbacks (empty when unguarded)
     */
    private SnapshotWeights fitOneEpoch(int batches, GuardConfig config, Path out, TrainingListener... first) throws Exception {
        SnapshotWeights seen = new SnapshotWeights();
        try (ScenarioRun run = ListenerRuns.openJump()) {
            run.config().addTrainingListeners(first);
            if (config != null) {
                run.config().addTrainingListeners(new GradGuardListener(config).addGuardListener(seen));
            }
            run.config().addTrainingListeners(new SaveModelTrainingListener(out.toString(), NAME, 1));
            try (Trainer t = run.newTrainer()) {
                seen.trainer.set(t);
                EasyTrain.fit(t, 1, ListenerRuns.firstBatches(run, batches), null);
            }
        }
        return seen;
    }

    @Test
    void checkpointRightAfterARollbackHoldsTheRestoredWeights() throws Exception {
        // where the rollback to a later snapshot happens (the runs are bit-reproducible)
        GuardEvent rollback = laterRollback(fitOneEpoch(200, GuardConfig.ofDefaults(), dir.resolve("probe")));
        int k = (int) rollback.step();
        long j = SnapshotWeights.toStep(rollback);

        // the same run with its epoch ending on that rollback step: the epoch-1 checkpoint comes right after it
        WeightsBeforeGuard before = new WeightsBeforeGuard();
        Path guardedDir = dir.resolve("guarded");
        SnapshotWeights seen = fitOneEpoch(k + 1, GuardConfig.ofDefaults(), guardedDir, before);
        assertThat(laterRollback(seen).step()).as("same run, same rollback").isEqualTo(k);
        float[][] saved = ListenerRuns.load(ListenerRuns.MLP, guardedDir, NAME, 1);
        assertThat(same(saved, seen.byStep.get(j))).as("checkpoint = the snapshot before step %d", j).isTrue();
        assertThat(same(saved, before.byStep.get(k))).as("not the weights the rollback replaced").isFalse();
        assertThat(finite(saved)).isTrue();

        // unguarded, the checkpoint after the same batches holds NaN
        Path bareDir = dir.resolve("bare");
        fitOneEpoch(k + 1, null, bareDir);
        assertThat(finite(ListenerRuns.load(ListenerRuns.MLP, bareDir, NAME, 1))).as("unguarded checkpoint").isFalse();
    }

    @Test
    void loopGuardCheckpointAfterEachRollbackHoldsTheRestoredWeights() throws Exception {
        SnapshotWeights seen = new SnapshotWeights();
        List<Long> restoredTo = new ArrayList<>();
        try (ScenarioRun run = ListenerRuns.openJump();
                DjlGuard guard = new DjlGuard(GuardConfig.ofDefaults()).addGuardListener(seen)) {
            run.config().addTrainingListeners(new SaveModelTrainingListener(dir.toString(), NAME, 1));
            try (Trainer t = run.newTrainer()) {
                seen.trainer.set(t);
                // a hand-written loop that ends an epoch right after each rollback
                run.trainByHand(t, (tr, loss) -> {
                    Decision d = guard.step(tr, loss);
                    if (d.action() == Action.ROLLBACK) {
                        restoredTo.add(SnapshotWeights.toStep(seen.rollbacks.get(seen.rollbacks.size() - 1)));
                        tr.notifyListeners(l -> l.onEpoch(tr));
                    }
                });
            }
        }
        assertThat(restoredTo).as("rollbacks, to a snapshot after step 0").isNotEmpty().anyMatch(s -> s > 0);
        for (int epoch = 1; epoch <= restoredTo.size(); epoch++) {
            float[][] saved = ListenerRuns.load(ListenerRuns.MLP, dir, NAME, epoch);
            assertThat(same(saved, seen.byStep.get(restoredTo.get(epoch - 1))))
                    .as("checkpoint %d = the snapshot before step %d", epoch, restoredTo.get(epoch - 1)).isTrue();
        }
        // unguarded, the same loop ends with NaN weights
        try (ScenarioRun run = ListenerRuns.openJump(); Trainer t = run.newTrainer()) {
            run.trainByHand(t, (tr, loss) -> tr.step());
            assertThat(finite(ListenerRuns.weights(t.getModel()))).as("unguarded").isFalse();
        }
    }

    /**
     * A halt restores the last healthy snapshot before it throws, on DJL as on TensorFlow, so the model DJL's
     * listener saves when the trainer closes holds the healthy weights, not the ones the exploding steps made.
     */
    @Test
    void aHaltedRunLeavesAndSavesTheLastHealthySnapshot() throws Exception {
        // lr.floor 0.5: the first rollback (scale 1 -> 0.3) would go below it, so the guard halts there, after
        // the snapshot before step 50
        GuardConfig halting = GuardConfig.custom().lrFloor(0.5).haltWhenSpent(true).build();
        WeightsBeforeGuard before = new WeightsBeforeGuard();
        SnapshotWeights seen = new SnapshotWeights();
        Path guardedDir = dir.resolve("guarded");
        try (ScenarioRun run = ListenerRuns.openJump()) {
            run.config().addTrainingListeners(before, new GradGuardListener(halting).addGuardListener(seen),
                    new SaveModelTrainingListener(guardedDir.toString(), NAME));
            try (Trainer t = run.newTrainer()) {
                seen.trainer.set(t);
                assertThatThrownBy(() -> EasyTrain.fit(t, 1, ListenerRuns.firstBatches(run, 300), null))
                        .isInstanceOf(GradGuardDivergedException.class);
            }
        }
        assertThat(seen.rollbacks).as("no rollback: the first one would cut below lr.floor").isEmpty();
        long last = seen.byStep.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
        assertThat(last).as("a snapshot after the first step").isPositive();
        float[][] atHalt = before.byStep.get(before.byStep.size() - 1);
        float[][] saved = ListenerRuns.load(ListenerRuns.MLP, guardedDir, NAME, 0);
        assertThat(same(saved, seen.byStep.get(last))).as("saved = the last healthy snapshot (step %d)", last).isTrue();
        assertThat(same(saved, atHalt)).as("not the weights the halted step started from").isFalse();

        // unguarded, the model saved at the end of the same epoch is NaN
        Path bareDir = dir.resolve("bare");
        try (ScenarioRun run = ListenerRuns.openJump()) {
            run.config().addTrainingListeners(new SaveModelTrainingListener(bareDir.toString(), NAME));
            try (Trainer t = run.newTrainer()) {
                EasyTrain.fit(t, 1, ListenerRuns.firstBatches(run, 300), null);
            }
        }
        assertThat(finite(ListenerRuns.load(ListenerRuns.MLP, bareDir, NAME, 1))).as("unguarded final model").isFalse();
    }

    /**
     * A spent rollback budget settles by default ({@code rollback.spent=settle}): the guard rolls back one last time,
     * holds the scale at {@code lr.floor} and the run trains to its end with finite weights, where
     * {@code rollback.spent=halt} throws at the same step and the unguarded run ends in NaN.
     */
    @Test
    void aSpentBudgetSettlesAndTrainsOnInsteadOfHalting() throws Exception {
        // lr.floor 0.35: the first rollback (step 84) would cut the scale 1 -> 0.3, below it, so the budget is spent there
        // and the guard settles at 0.35
        SnapshotWeights seen = new SnapshotWeights();
        GradGuardListener settling = new GradGuardListener(GuardConfig.custom().lrFloor(0.35).build()).addGuardListener(seen);
        float[][] end;
        try (ScenarioRun run = ListenerRuns.openJump()) {
            run.config().addTrainingListeners(settling);
            try (Trainer t = run.newTrainer()) {
                seen.trainer.set(t);
                EasyTrain.fit(t, 1, ListenerRuns.firstBatches(run, 300), null);
                end = ListenerRuns.weights(t.getModel());
            }
        }
        assertThat(seen.rollbacks).hasSize(1);
        GuardEvent last = seen.rollbacks.get(0);
        assertThat(last.step()).isEqualTo(84);
        assertThat(last.data()).containsEntry("spent", true).containsEntry("lr_scale", 0.35);
        assertThat(last.detail()).contains("the rollback budget is spent").contains("below lr.floor=0.35");
        assertThat(settling.guard().state()).isNotEqualTo(io.gradguard.core.GuardState.HALTED);
        assertThat(settling.guard().lrScale()).isEqualTo(0.35);
        assertThat(finite(end)).as("the settled run's final weights").isTrue();

        // rollback.spent=halt: the same run throws at the second trouble
        try (ScenarioRun run = ListenerRuns.openJump()) {
            run.config().addTrainingListeners(new GradGuardListener(GuardConfig.custom().lrFloor(0.35).haltWhenSpent(true).build()));
            try (Trainer t = run.newTrainer()) {
                assertThatThrownBy(() -> EasyTrain.fit(t, 1, ListenerRuns.firstBatches(run, 300), null))
                        .isInstanceOf(GradGuardDivergedException.class).hasMessageContaining("below lr.floor=0.35");
            }
        }
        // unguarded, the same epoch ends in NaN
        try (ScenarioRun run = ListenerRuns.openJump(); Trainer t = run.newTrainer()) {
            EasyTrain.fit(t, 1, ListenerRuns.firstBatches(run, 300), null);
            assertThat(finite(ListenerRuns.weights(t.getModel()))).as("unguarded").isFalse();
        }
    }

    @Test
    void loopGuardHaltLeavesTheLastHealthySnapshot() {
        SnapshotWeights seen = new SnapshotWeights();
        float[][] atHalt;
        float[][] after;
        try (ScenarioRun run = ListenerRuns.openJump();
                DjlGuard guard = new DjlGuard(GuardConfig.custom().lrFloor(0.5).haltWhenSpent(true).build()).addGuardListener(seen);
                Trainer t = run.newTrainer()) {
            seen.trainer.set(t);
            float[][][] last = new float[1][][];
            assertThatThrownBy(() -> run.trainByHand(t, (tr, loss) -> {
                last[0] = ListenerRuns.weights(tr.getModel());
                guard.step(tr, loss);
            })).isInstanceOf(GradGuardDivergedException.class);
            atHalt = last[0];
            after = ListenerRuns.weights(t.getModel());
        }
        long snap = seen.byStep.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
        assertThat(snap).isPositive();
        assertThat(same(after, seen.byStep.get(snap))).as("the last healthy snapshot (step %d)", snap).isTrue();
        assertThat(same(after, atHalt)).isFalse();
        // unguarded, the same loop ends with NaN weights
        try (ScenarioRun run = ListenerRuns.openJump(); Trainer t = run.newTrainer()) {
            run.trainByHand(t, (tr, loss) -> tr.step());
            assertThat(finite(ListenerRuns.weights(t.getModel()))).as("unguarded").isFalse();
        }
    }
}
