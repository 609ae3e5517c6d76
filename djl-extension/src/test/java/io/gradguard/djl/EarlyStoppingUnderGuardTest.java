package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.listener.EarlyStoppingListener;
import ai.djl.training.listener.EpochTrainingListener;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.listener.TrainingListenerAdapter;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.event.RunSummary;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * DJL's {@link EarlyStoppingListener} under the guard, on the real PyTorch engine (the deep MLP, epochs of 50
 * batches, a 10-batch validation slice; stop when the validation loss improves by less than 10% twice in a row,
 * at most 12 epochs). It reads {@code trainer.getTrainingResult()}, which still finds DJL's evaluator listener
 * behind the guard's stand-in: on a healthy run it stops at the same epoch, for the same reason, after the same
 * validation losses, with and without the guard. On an exploding run DJL alone never stops (a NaN validation loss
 * is never a previous value to compare with, so the patience never starts) and trains NaN to the last epoch;
 * under the guard the losses stay finite and it stops by its own rule.
 */
class EarlyStoppingUnderGuardTest {

    private static final int MAX_EPOCHS = 12;

    /** How a run ended: the stop epoch (null: ran every epoch), the reason, the validation loss of each epoch. */
    private record Ended(Integer stopEpoch, String reason, List<Float> validateLosses, RunSummary summary) {}

    private static Ended fit(Variant v, boolean guarded) throws Exception {
        List<Float> validate = new ArrayList<>();
        GradGuardListener guard = new GradGuardListener(GuardConfig.ofDefaults());
        try (ScenarioRun run = ListenerRuns.MLP.open(v)) {
            run.config().addTrainingListeners(new EpochTrainingListener(), new EvaluatorTrainingListener(),
                    new TrainingListenerAdapter() {
                        @Override
                        public void onEpoch(Trainer trainer) {
                            validate.add(trainer.getTrainingResult().getValidateLoss());
                        }
                    });
            if (guarded) {
                run.config().addTrainingListeners(guard);
            }
            // DJL's advice: early stopping last
            run.config().addTrainingListeners(EarlyStoppingListener.builder().optMinEpochs(2)
                    .optEarlyStopPctImprovement(10).optEpochPatience(2).build());
            try (Trainer t = run.newTrainer()) {
                try {
                    EasyTrain.fit(t, MAX_EPOCHS, ListenerRuns.firstBatches(run, 50), ListenerRuns.slice(run, 250, 10));
                } catch (EarlyStoppingListener.EarlyStoppedException e) {
                    return new Ended(e.getStopEpoch(), e.getMessage(), validate, guard.summary());
                }
                return new Ended(null, null, validate, guard.summary());
            }
        }
    }

    @Test
    void healthyRunStopsAtTheSameEpochWithAndWithoutTheGuard() throws Exception {
        Ended bare = fit(Variant.REFERENCE, false);
        assertThat(bare.stopEpoch()).as("DJL stops the healthy run early: %s", bare.validateLosses())
                .isNotNull().isLessThan(MAX_EPOCHS);
        Ended guarded = fit(Variant.REFERENCE, true);
        assertThat(guarded.summary().intervened()).isFalse();
        assertThat(guarded.stopEpoch()).isEqualTo(bare.stopEpoch());
        assertThat(guarded.reason()).isEqualTo(bare.reason());
        assertThat(guarded.validateLosses()).isEqualTo(bare.validateLosses());
        System.out.printf("early stopping, healthy run: stopped at epoch %d (%s) with and without the guard, after %s%n",
                bare.stopEpoch(), bare.reason(), bare.validateLosses());
    }

    @Test
    void explodingRunNeverStopsAloneAndStopsByItsRuleUnderTheGuard() throws Exception {
        Ended bare = fit(Variant.EXPLODING, false);
        assertThat(bare.stopEpoch()).as("DJL alone: no early stop").isNull();
        assertThat(bare.validateLosses()).hasSize(MAX_EPOCHS).allMatch(l -> l.isNaN());

        Ended guarded = fit(Variant.EXPLODING, true);
        assertThat(guarded.summary().rollbacks()).isPositive();
        assertThat(guarded.validateLosses()).allMatch(Float::isFinite);
        assertThat(guarded.stopEpoch()).as("stops early: %s", guarded.validateLosses()).isNotNull().isLessThan(MAX_EPOCHS);
        assertThat(guarded.reason()).contains("improvement");
        // the rule it stopped by holds on the losses it saw: the last two epochs improved by less than 10% each
        List<Float> v = guarded.validateLosses();
        int n = v.size();
        assertThat(n).isEqualTo(guarded.stopEpoch());
        assertThat(v.get(n - 1)).isGreaterThan(0.9f * v.get(n - 2));
        assertThat(v.get(n - 2)).isGreaterThan(0.9f * v.get(n - 3));
        System.out.printf("early stopping, exploding run: DJL alone %s; guarded %s, stopped at epoch %d%n",
                bare.validateLosses(), v, n);
    }
}
