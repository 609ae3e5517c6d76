package io.gradguard.djl.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.listener.DivergenceCheckTrainingListener;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A hand-written loop calls the guard on every step (PyTorch engine): the trainer is prepared once, not on
 * every step, and a warning about something the guard cannot do is given once, not once per step.
 */
class PrepareOnceTest {

    /** A training config whose listener list cannot be changed: the guard cannot stand in for DJL's divergence check. */
    private static final class FixedListeners extends DefaultTrainingConfig {
        FixedListeners() {
            super(Loss.l2Loss());
            optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.01f)).build());
        }

        @Override
        public List<TrainingListener> getTrainingListeners() {
            return List.of(new DivergenceCheckTrainingListener());
        }
    }

    @Test
    void aLoopOfStepsPreparesOnceAndWarnsOnce() {
        List<String> warnings = new ArrayList<>();
        try (Model model = Model.newInstance("prepare-once")) {
            model.setBlock(Linear.builder().setUnits(1).build());
            try (Trainer t = model.newTrainer(new FixedListeners());
                    DjlGuardSession session = new DjlGuardSession(GuardConfig.ofDefaults(), "loop")) {
                session.guard().addListener(new GuardListener() {
                    @Override
                    public void onEvent(GuardEvent e) {
                        if (e.kind() == EventKind.WARNING) {
                            warnings.add(e.detail());
                        }
                    }
                });
                t.initialize(new Shape(8, 3));
                NDArray x = t.getManager().randomNormal(new Shape(8, 3));
                NDArray y = t.getManager().randomNormal(new Shape(8, 1));
                for (int i = 0; i < 5; i++) {
                    session.prepare(t, true);
                    try (GradientCollector gc = t.newGradientCollector()) {
                        NDArray loss = t.getLoss().evaluate(new NDList(y), t.forward(new NDList(x)));
                        gc.backward(loss);
                        session.carryOut(session.inspect(t, loss), false);
                    }
                    t.step();
                    session.stepDone();
                }
                assertThat(session.preparations()).as("full preparations of one trainer").isEqualTo(1);
            }
        }
        assertThat(warnings).filteredOn(w -> w.contains("immutable")).hasSize(1);
    }
}
