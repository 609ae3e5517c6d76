package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
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
 * Parameters that become trainable after the first step (issue 13, item 2; DJL's freeze-parameters pattern: train
 * a head on a frozen body, then unfreeze the body). Real PyTorch engine: the body is unfrozen at step
 * {@value #UNFREEZE}, and at step {@value #BAD} a NaN appears in one of its gradients only. Unguarded the run ends
 * NaN; the guard sees the new trainable set from the step it appears, skips that step and names the change in its
 * log.
 */
class UnfrozenParametersTest {

    private static final int UNFREEZE = 30;
    private static final int BAD = 45;

    @TempDir
    Path dir;

    private static float train(DjlGuard guard) {
        try (Model model = Model.newInstance("unfreeze")) {
            SequentialBlock body = new SequentialBlock().add(Linear.builder().setUnits(16).build()).add(Activation::tanh);
            SequentialBlock net = new SequentialBlock().add(body).add(Linear.builder().setUnits(1).build());
            model.setBlock(net);
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.02f)).optMomentum(0.9f).build());
            try (Trainer t = model.newTrainer(config)) {
                NDManager m = t.getManager();
                m.getEngine().setRandomSeed(11);
                t.initialize(new Shape(8, 4));
                body.freezeParameters(true);
                for (int s = 0; s < 80; s++) {
                    if (s == UNFREEZE) {
                        body.freezeParameters(false);
                    }
                    try (NDManager step = m.newSubManager()) {
                        NDArray x = step.randomNormal(new Shape(8, 4));
                        NDArray y = x.sum(new int[] {1}, true).sin();
                        NDArray loss;
                        try (GradientCollector c = t.newGradientCollector()) {
                            loss = t.getLoss().evaluate(new NDList(y), t.forward(new NDList(x)));
                            c.backward(loss);
                        }
                        if (s == BAD) {
                            body.getParameters().get(0).getValue().getArray().getGradient().set(new NDIndex("0, 0"), Float.NaN);
                        }
                        if (guard == null) {
                            t.step();
                        } else {
                            guard.step(t, loss);
                        }
                    }
                }
                try (NDManager eval = m.newSubManager()) {
                    NDArray x = eval.randomNormal(new Shape(64, 4));
                    return t.getLoss().evaluate(new NDList(x.sum(new int[] {1}, true).sin()), t.forward(new NDList(x))).getFloat();
                }
            }
        }
    }

    @Test
    void aBlockUnfrozenLaterIsWatchedFromThen() {
        assertThat(train(null)).as("unguarded").isNaN();
        Path log = dir.resolve("unfreeze.jsonl");
        float guarded;
        try (DjlGuard guard = new DjlGuard(GuardConfig.custom().log(log).build())) {
            guarded = train(guard);
        }
        assertThat(guarded).as("guarded").isFinite();
        List<JsonNode> lines = Train.readLog(log);
        List<JsonNode> warnings = Train.events(lines, "warning");
        assertThat(warnings).hasSize(1);
        assertThat(warnings.get(0).path("step").asLong()).isEqualTo(UNFREEZE);
        assertThat(warnings.get(0).path("detail").asText()).contains("trainable parameters changed").contains("2 -> 4")
                .contains("now trained");
        assertThat(Train.events(lines, "nonfinite")).extracting(e -> e.path("step").asLong()).containsExactly((long) BAD);
        assertThat(Train.events(lines, "snapshot")).extracting(e -> e.path("step").asLong()).contains(0L, (long) UNFREEZE);
        JsonNode lastLayers = lines.stream().filter(n -> n.path("type").asText().equals("layers")).reduce((a, b) -> b).orElseThrow();
        assertThat(lastLayers.path("grad_norms").size()).as("the layer records cover the body now").isEqualTo(4);
    }
}
