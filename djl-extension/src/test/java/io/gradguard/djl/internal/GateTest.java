package io.gradguard.djl.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.optimizer.Sgd;
import ai.djl.training.tracker.Tracker;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.Policy;
import io.gradguard.djl.DjlGuard;
import io.gradguard.djl.GradGuardListener;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Exactness of the actuation on the real engine: a clipped SGD step moves the weights by exactly
 * {@code -lr * coef * g}, through the gated {@code Trainer.step()} (listener) and directly (loop guard); a
 * skipped step moves neither the weights nor the momentum buffers nor the update counts.
 */
class GateTest {

    private static final float LR = 0.1f;

    private record Setup(Model model, Trainer trainer, ArrayDataset data, NDManager manager) implements AutoCloseable {
        @Override
        public void close() {
            trainer.close();
            model.close();
        }
    }

    private static Setup setup(float momentum, boolean nanInThirdBatch, GradGuardListener listener) {
        Engine.getInstance().setRandomSeed(3);
        Model model = Model.newInstance("gate");
        model.setBlock(Linear.builder().setUnits(1).build());
        ArrayDataset data = io.gradguard.djl.TinyData.regression(model.getNDManager(), 3f, nanInThirdBatch);
        Sgd.Builder sgd = Optimizer.sgd().setLearningRateTracker(Tracker.fixed(LR));
        if (momentum > 0) {
            sgd.optMomentum(momentum);
        }
        DefaultTrainingConfig cfg = new DefaultTrainingConfig(Loss.l2Loss()).optOptimizer(sgd.build());
        if (listener != null) {
            cfg.addTrainingListeners(listener);
        }
        Trainer t = model.newTrainer(cfg);
        t.initialize(new Shape(4, 4));
        return new Setup(model, t, data, model.getNDManager());
    }

    private static float[] weights(Trainer t) {
        return t.getModel().getBlock().getParameters().get("weight").getArray().toFloatArray();
    }

    private static float[] grads(Trainer t) {
        try (NDArray g = t.getModel().getBlock().getParameters().get("weight").getArray().getGradient()) {
            return g.toFloatArray();
        }
    }

    private static double globalNorm(Trainer t) {
        double sq = 0;
        for (var p : t.getModel().getBlock().getParameters().values()) {
            try (NDArray g = p.getArray().getGradient()) {
                for (float v : g.toFloatArray()) {
                    sq += (double) v * v;
                }
            }
        }
        return Math.sqrt(sq);
    }

    private static void assertClippedUpdate(float[] w0, float[] g, double norm, float[] w1, double maxNorm) {
        double coef = maxNorm / (norm + 1e-6);
        assertThat(coef).isLessThan(0.5);
        for (int i = 0; i < w0.length; i++) {
            assertThat((double) w1[i]).isCloseTo(w0[i] - LR * coef * g[i], within(1e-6));
        }
    }

    @Test
    void clippedStepThroughTheGateScalesTheUpdateExactly() throws Exception {
        GradGuardListener listener = new GradGuardListener(GuardConfig.custom().policy(Policy.CLIP).clipNorm(0.01).build());
        try (Setup s = setup(0, false, listener)) {
            for (Batch batch : s.trainer().iterateDataset(s.data())) {
                EasyTrain.trainBatch(s.trainer(), batch);
                // the listener has decided; the gate scales inside trainer.step()
                float[] w0 = weights(s.trainer());
                float[] g = grads(s.trainer());
                double norm = globalNorm(s.trainer());
                s.trainer().step();
                assertClippedUpdate(w0, g, norm, weights(s.trainer()), 0.01);
                batch.close();
            }
            assertThat(listener.summary().clipped()).isEqualTo(4);
        }
    }

    @Test
    void clippedStepInTheLoopGuardScalesTheUpdateExactly() throws Exception {
        try (Setup s = setup(0, false, null);
                DjlGuard guard = new DjlGuard(GuardConfig.custom().policy(Policy.CLIP).clipNorm(0.01).build())) {
            for (Batch batch : s.trainer().iterateDataset(s.data())) {
                NDArray loss;
                try (var gc = s.trainer().newGradientCollector()) {
                    loss = s.trainer().getLoss().evaluate(batch.getLabels(), s.trainer().forward(batch.getData()));
                    gc.backward(loss);
                }
                float[] w0 = weights(s.trainer());
                float[] g = grads(s.trainer());
                double norm = globalNorm(s.trainer());
                guard.step(s.trainer(), loss);
                assertClippedUpdate(w0, g, norm, weights(s.trainer()), 0.01);
                batch.close();
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static List<float[]> optimizerState(Trainer t) throws ReflectiveOperationException {
        Optimizer opt = OptimizerAccess.optimizer(t);
        List<float[]> out = new ArrayList<>();
        Field f = Sgd.class.getDeclaredField("momentumStates");
        f.setAccessible(true);
        ((Map<String, Map<?, NDArray>>) f.get(opt)).values().forEach(m -> m.values().forEach(a -> out.add(a.toFloatArray())));
        Field counts = Optimizer.class.getDeclaredField("updateCounts");
        counts.setAccessible(true);
        ((Map<String, Integer>) counts.get(opt)).values().forEach(v -> out.add(new float[] {v}));
        return out;
    }

    @Test
    void skippedStepMovesNeitherWeightsNorMomentumNorCounts() throws Exception {
        GradGuardListener listener = new GradGuardListener(GuardConfig.ofDefaults());
        try (Setup s = setup(0.9f, true, listener)) {
            int k = 0;
            for (Batch batch : s.trainer().iterateDataset(s.data())) {
                EasyTrain.trainBatch(s.trainer(), batch);
                float[] w0 = weights(s.trainer());
                List<float[]> state0 = optimizerState(s.trainer());
                s.trainer().step();
                if (k == 2) {
                    assertThat(weights(s.trainer())).isEqualTo(w0);
                    List<float[]> state1 = optimizerState(s.trainer());
                    assertThat(state1).hasSameSizeAs(state0);
                    for (int i = 0; i < state0.size(); i++) {
                        assertThat(state1.get(i)).isEqualTo(state0.get(i));
                    }
                    assertThat(grads(s.trainer())).containsOnly(0f);
                } else {
                    assertThat(weights(s.trainer())).isNotEqualTo(w0);
                }
                batch.close();
                k++;
            }
            assertThat(listener.summary().skipped()).isEqualTo(1);
            assertThat(listener.summary().nonFinite()).isEqualTo(1);
        }
    }
}
