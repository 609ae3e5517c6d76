package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import com.fasterxml.jackson.databind.JsonNode;
import io.gradguard.core.GuardConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A step the guard lets through but whose optimizer throws (PyTorch does not implement DJL's Nag): the
 * exception reaches the application unchanged, and the event log says that the step's update was not applied
 * instead of leaving it recorded as a plain completed step.
 */
class OptimizerFailureTest {

    @TempDir
    Path dir;

    @Test
    void aThrowingOptimizerIsLoggedAsAFailedStep() {
        Path log = dir.resolve("nag.jsonl");
        try (Model model = Model.newInstance("nag")) {
            model.setBlock(Linear.builder().setUnits(1).build());
            DefaultTrainingConfig cfg = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.nag().setLearningRateTracker(Tracker.fixed(0.01f)).setMomentum(0.9f).build());
            try (Trainer t = model.newTrainer(cfg); DjlGuard guard = new DjlGuard(GuardConfig.custom().log(log).build())) {
                t.initialize(new Shape(8, 3));
                NDArray x = t.getManager().randomNormal(new Shape(8, 3));
                NDArray y = t.getManager().randomNormal(new Shape(8, 1));
                try (GradientCollector gc = t.newGradientCollector()) {
                    NDArray loss = t.getLoss().evaluate(new NDList(y), t.forward(new NDList(x)));
                    gc.backward(loss);
                    assertThatThrownBy(() -> guard.step(t, loss)).as("the engine's own error reaches the app")
                            .isNotInstanceOf(GradGuardDivergedException.class);
                }
            }
        }
        List<JsonNode> failed = Train.events(Train.readLog(log), "warning").stream()
                .filter(e -> e.has("failed_step")).toList();
        assertThat(failed).hasSize(1);
        assertThat(failed.get(0).path("failed_step").asLong()).isZero();
        assertThat(failed.get(0).path("detail").asText()).contains("not applied");
    }
}
