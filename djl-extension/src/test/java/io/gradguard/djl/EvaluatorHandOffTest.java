package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.TrainingDivergedException;
import ai.djl.metric.Metric;
import ai.djl.metric.Metrics;
import ai.djl.ndarray.NDArray;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.listener.TrainingListener;
import io.gradguard.core.GuardConfig;
import io.gradguard.djl.internal.DjlGuardSession;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A batch that DJL's evaluator listener handed to the guard's stand-in and whose decision never comes reaches the
 * evaluators while it is still open. In a hand-written loop that calls {@code EasyTrain.trainBatch} (DJL's
 * {@code Defaults.basic()} listeners, the real PyTorch engine, the deep MLP) the loop closes each batch before the
 * next one, so a stand-in that kept such a batch until then would make DJL's evaluator throw "Native resource has
 * been released already" into training. The cases: after the guard has turned itself off on an internal error
 * (fail-open, so nothing but a halt may reach the app), after a step the loop runs itself with
 * {@code trainer.step()}, and on a trainer whose guard was taken over from another (the agent's) that had put the
 * stand-in in. A healthy run records exactly what it records without the guard.
 */
class EvaluatorHandOffTest {

    private static final int BATCHES = 20;

    /** What happens at batch 3. */
    private enum At3 { NOTHING, INTERNAL_ERROR, LOOP_STEPS_ITSELF }

    /** What DJL recorded. */
    private record Recorded(Map<String, Float> result, List<Float> trainAll) {}

    private static NDArray freed(Trainer t) {
        NDArray a = t.getManager().create(1f);
        a.close(); // the app hands over a loss it has already freed: measuring it fails inside the guard
        return a;
    }

    /**
     * EasyTrain.fit's loop over {@code BATCHES} batches, one epoch.
     *
     * @param guard the loop guard, or null for {@code trainer.step()}
     * @param agentFirst another guard (as the agent does when the trainer is created) prepares the trainer first
     */
    private static Recorded loop(Variant v, DjlGuard guard, At3 at3, boolean agentFirst) throws Exception {
        try (ScenarioRun run = ListenerRuns.MLP.open(v)) {
            run.config().addTrainingListeners(TrainingListener.Defaults.basic());
            try (Trainer t = run.newTrainer(); DjlGuardSession agent = new DjlGuardSession(GuardConfig.ofDefaults(), "agent")) {
                t.setMetrics(new Metrics());
                if (agentFirst) {
                    agent.prepare(t, true);
                }
                if (guard != null) {
                    guard.attach(t);
                }
                int i = 0;
                for (Batch b : t.iterateDataset(ListenerRuns.firstBatches(run, BATCHES))) {
                    try (b) {
                        EasyTrain.trainBatch(t, b);
                        if (guard == null || i == 3 && at3 == At3.LOOP_STEPS_ITSELF) {
                            t.step();
                        } else {
                            guard.step(t, i == 3 && at3 == At3.INTERNAL_ERROR ? freed(t) : null);
                        }
                    }
                    i++;
                }
                t.notifyListeners(l -> l.onEpoch(t));
                List<Float> all = t.getMetrics().getMetric("train_all_L2Loss").stream()
                        .map(Metric::getValue).map(Number::floatValue).toList();
                return new Recorded(Map.copyOf(t.getTrainingResult().getEvaluations()), all);
            }
        }
    }

    @Test
    void aBatchTheGuardCouldNotDecideOnStillReachesTheEvaluators() throws Exception {
        Recorded bare = loop(Variant.REFERENCE, null, At3.NOTHING, false);
        assertThat(bare.trainAll()).hasSize(BATCHES);
        for (At3 at3 : new At3[] {At3.INTERNAL_ERROR, At3.LOOP_STEPS_ITSELF}) {
            try (DjlGuard guard = new DjlGuard(GuardConfig.ofDefaults())) {
                Recorded r = loop(Variant.REFERENCE, guard, at3, false);
                assertThat(r.trainAll()).as("%s: every batch, as without the guard", at3).isEqualTo(bare.trainAll());
                assertThat(r.result()).as("%s", at3).isEqualTo(bare.result());
                assertThat(guard.summary().intervened()).isFalse();
            }
        }
    }

    @Test
    void aGuardThatTakesTheTrainerOverTakesTheStandInsOver() throws Exception {
        Recorded bare = loop(Variant.REFERENCE, null, At3.NOTHING, false);
        try (DjlGuard guard = new DjlGuard(GuardConfig.ofDefaults())) {
            Recorded r = loop(Variant.REFERENCE, guard, At3.NOTHING, true);
            assertThat(r.trainAll()).isEqualTo(bare.trainAll());
            assertThat(r.result()).isEqualTo(bare.result());
        }
        // and on an exploding run it is the guard that took over that decides which batches count
        assertThatThrownBy(() -> loop(Variant.EXPLODING, null, At3.NOTHING, false))
                .as("DJL alone").isInstanceOf(TrainingDivergedException.class);
        try (DjlGuard guard = new DjlGuard(GuardConfig.ofDefaults())) {
            Recorded r = loop(Variant.EXPLODING, guard, At3.NOTHING, true);
            assertThat(guard.summary().skipped() + guard.summary().rollbacks()).isPositive();
            assertThat(r.trainAll()).hasSize(BATCHES - (int) (guard.summary().skipped() + guard.summary().rollbacks()));
            assertThat(r.result().get("train_loss")).isFinite();
        }
    }

    @Test
    void djlsDivergenceCheckIsInChargeAgainOnceTheGuardTurnsItselfOff() throws Exception {
        // guarded, the exploding loop completes; DJL alone stops it
        try (DjlGuard guard = new DjlGuard(GuardConfig.ofDefaults())) {
            assertThat(loop(Variant.EXPLODING, guard, At3.NOTHING, false).result().get("train_loss")).isFinite();
        }
        assertThatThrownBy(() -> loop(Variant.EXPLODING, null, At3.NOTHING, false))
                .isInstanceOf(TrainingDivergedException.class).hasMessageContaining("The Loss became NaN");
        // an internal error at batch 3 turns the guard off: from then on DJL's own check stops the run, as without it
        try (DjlGuard guard = new DjlGuard(GuardConfig.ofDefaults())) {
            assertThatThrownBy(() -> loop(Variant.EXPLODING, guard, At3.INTERNAL_ERROR, false))
                    .isExactlyInstanceOf(TrainingDivergedException.class).hasMessageContaining("The Loss became NaN");
        }
    }
}
