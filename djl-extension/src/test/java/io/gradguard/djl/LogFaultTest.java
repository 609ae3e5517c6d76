package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

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
import io.gradguard.core.GuardConfig;
import io.gradguard.core.event.RunSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An event log that cannot be written (PyTorch engine, loop guard): the run trains on and stays guarded; only
 * the log is lost. A path under a regular file cannot be opened at all; {@code /dev/full} opens but every
 * write fails.
 */
class LogFaultTest {

    @TempDir
    Path dir;

    private static RunSummary train(Path log, int steps) {
        try (Model model = Model.newInstance("log-fault")) {
            model.setBlock(Linear.builder().setUnits(1).build());
            DefaultTrainingConfig cfg = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.01f)).build());
            try (Trainer t = model.newTrainer(cfg); DjlGuard guard = new DjlGuard(GuardConfig.custom().log(log).build())) {
                t.initialize(new Shape(8, 3));
                NDArray x = t.getManager().randomNormal(new Shape(8, 3));
                NDArray y = t.getManager().randomNormal(new Shape(8, 1));
                for (int i = 0; i < steps; i++) {
                    try (GradientCollector gc = t.newGradientCollector()) {
                        NDArray loss = t.getLoss().evaluate(new NDList(y), t.forward(new NDList(x)));
                        gc.backward(loss);
                        guard.step(t, loss);
                    }
                }
                return guard.summary();
            }
        }
    }

    @Test
    void aLogPathThatCannotBeOpenedCostsTheLogNotTheGuard() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        RunSummary s = train(file.resolve("run.jsonl"), 20);
        assertThat(s.steps()).isEqualTo(20);
        assertThat(Files.readString(file)).as("the file in the way is left as it was").isEqualTo("x");
    }

    @Test
    void aFullDiskCostsTheLogNotTheGuard() {
        Path full = Path.of("/dev/full");
        if (!Files.isWritable(full)) {
            throw new IllegalStateException("/dev/full is missing on this machine: the test cannot run");
        }
        RunSummary s = train(full, 20);
        assertThat(s.steps()).isEqualTo(20);
    }
}
