package io.gradguard.djl.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
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
import ai.djl.training.tracker.ParameterTracker;
import ai.djl.training.tracker.Tracker;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** A user's own optimizer: its NDArray state is captured generically, and its learning rate scaled. */
class CustomOptimizerSnapshotTest {

    /** Heavy-ball momentum written by a user, with a per-parameter map and a plain NDArray field. */
    static final class UserMomentum extends Optimizer {
        private final ParameterTracker lr;
        private final Map<String, NDArray> velocity = new ConcurrentHashMap<>();
        private NDArray lastUpdateNorm;
        private int steps;

        UserMomentum(float lr) {
            super(new OptimizerBuilder<>() {
                @Override
                protected OptimizerBuilder<?> self() {
                    return this;
                }
            });
            this.lr = Tracker.fixed(lr);
        }

        @Override
        public void update(String parameterId, NDArray weight, NDArray grad) {
            float rate = lr.getNewValue(parameterId, updateCount(parameterId));
            NDArray v = velocity.computeIfAbsent(parameterId, k -> {
                NDArray z = weight.zerosLike();
                z.detach();
                return z;
            });
            v.muli(0.9f).addi(grad);
            weight.subi(v.mul(rate));
            if (lastUpdateNorm != null) {
                lastUpdateNorm.close();
            }
            lastUpdateNorm = v.norm();
            lastUpdateNorm.detach();
            // DJL hands optimizers a copy of the gradient; PyTorch accumulates into the real one
            try (NDArray real = weight.getGradient()) {
                real.set(new NDIndex("..."), 0);
            }
            steps++;
        }
    }

    private static Map<String, float[]> state(UserMomentum opt) {
        Map<String, float[]> out = new TreeMap<>();
        opt.velocity.forEach((k, v) -> out.put(k, v.toFloatArray()));
        out.put("lastUpdateNorm", opt.lastUpdateNorm.toFloatArray());
        out.put("steps", new float[] {opt.steps});
        return out;
    }

    @Test
    void userOptimizerStateIsRestoredExactlyAndItsRateScaled() {
        Engine.getInstance().setRandomSeed(5);
        UserMomentum opt = new UserMomentum(0.01f);
        try (Model model = Model.newInstance("custom")) {
            model.setBlock(new SequentialBlock()
                    .add(Linear.builder().setUnits(16).build()).add(Activation::relu)
                    .add(Linear.builder().setUnits(1).build()));
            try (Trainer t = model.newTrainer(new DefaultTrainingConfig(Loss.l2Loss()).optOptimizer(opt))) {
                t.initialize(new Shape(8, 4));
                NDArray x = model.getNDManager().randomNormal(new Shape(8, 4));
                NDArray y = x.sum(new int[] {1}, true);
                Runnable step = () -> {
                    try (GradientCollector gc = t.newGradientCollector()) {
                        gc.backward(t.getLoss().evaluate(new ai.djl.ndarray.NDList(y), t.forward(new ai.djl.ndarray.NDList(x))));
                    }
                    t.step();
                };
                for (int i = 0; i < 10; i++) {
                    step.run();
                }
                assertThat(OptimizerAccess.optimizer(t)).isSameAs(opt);
                double[] scale = {1.0};
                assertThat(OptimizerAccess.scaleLearningRate(opt, () -> scale[0])).isEqualTo(1);

                GradientInspector insp = new GradientInspector(t);
                try (TrainingSnapshot snap = new TrainingSnapshot(insp, opt, false)) {
                    snap.take(10);
                    assertThat(snap.uncaptured()).isEmpty();
                    Map<String, float[]> before = state(opt);
                    List<float[]> params = new ArrayList<>();
                    for (int i = 0; i < insp.size(); i++) {
                        params.add(insp.copies(i)[0].toFloatArray());
                    }
                    for (int i = 0; i < 3; i++) {
                        insp.forEachGradient(g -> g.addi(Float.NaN));
                        t.step();
                    }
                    assertThat(opt.steps).isGreaterThan((int) before.get("steps")[0]);
                    snap.restore();
                    Map<String, float[]> after = state(opt);
                    assertThat(after.keySet()).isEqualTo(before.keySet());
                    before.forEach((k, v) -> assertThat(after.get(k)).as(k).isEqualTo(v));
                    for (int i = 0; i < insp.size(); i++) {
                        assertThat(insp.copies(i)[0].toFloatArray()).isEqualTo(params.get(i));
                    }
                }

                // the guard's scale reaches the user's update: scale 0 freezes the weights
                scale[0] = 0.0;
                float[] w0 = insp.copies(0)[0].toFloatArray();
                opt.velocity.values().forEach(v -> v.muli(0));
                step.run();
                assertThat(insp.copies(0)[0].toFloatArray()).isEqualTo(w0);
            }
        }
    }
}
