package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.listener.EpochTrainingListener;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.gradguard.core.GuardConfig;
import org.junit.jupiter.api.Test;

/**
 * A batch the guard skips does not enter DJL's epoch loss: one NaN batch makes DJL report a NaN epoch loss
 * without the guard, and a finite one with it, whatever the listener order.
 */
class EpochLossTest {

    private static Float epochTrainLoss(TrainingListener... listeners) throws Exception {
        Engine.getInstance().setRandomSeed(3);
        try (Model model = Model.newInstance("epoch-loss")) {
            model.setBlock(Linear.builder().setUnits(1).build());
            ArrayDataset data = TinyData.regression(model.getNDManager(), 1f, true);
            DefaultTrainingConfig cfg = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.05f)).build())
                    .addTrainingListeners(listeners);
            try (Trainer t = model.newTrainer(cfg)) {
                t.initialize(new Shape(4, 4));
                EasyTrain.fit(t, 2, data, null);
                return t.getTrainingResult().getTrainLoss();
            }
        }
    }

    @Test
    void skippedBatchesStayOutOfTheEpochLoss() throws Exception {
        Float bare = epochTrainLoss(new EpochTrainingListener(), new EvaluatorTrainingListener());
        assertThat(bare).as("without the guard the NaN batch poisons the epoch loss").isNaN();

        Float guardLast = epochTrainLoss(new EpochTrainingListener(), new EvaluatorTrainingListener(),
                new GradGuardListener(GuardConfig.ofDefaults()));
        Float guardFirst = epochTrainLoss(new GradGuardListener(GuardConfig.ofDefaults()),
                new EpochTrainingListener(), new EvaluatorTrainingListener());
        assertThat(guardLast).isFinite().isPositive();
        assertThat(guardFirst).isEqualTo(guardLast);
    }
}
