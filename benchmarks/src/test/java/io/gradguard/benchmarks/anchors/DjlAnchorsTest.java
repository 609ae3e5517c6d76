package io.gradguard.benchmarks.anchors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** AGC and the PyTorch-semantics global-norm clip on the real PyTorch engine, checked against host arithmetic. */
class DjlAnchorsTest {

    /** A 3 -> 4 -> 1 MLP after one backward pass on a batch built to give large first-layer gradients. */
    private static Trainer trainerWithGradients(Model model) {
        Engine.getInstance().setRandomSeed(3);
        SequentialBlock block = new SequentialBlock().add(Linear.builder().setUnits(4).build())
                .add(Linear.builder().setUnits(1).build());
        model.setBlock(block);
        Trainer t = model.newTrainer(new DefaultTrainingConfig(Loss.l2Loss())
                .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0f)).build()));
        t.initialize(new Shape(8, 3));
        NDManager m = t.getManager();
        NDArray x = m.randomNormal(new Shape(8, 3)).mul(30f);
        NDArray y = m.randomNormal(new Shape(8, 1)).mul(100f);
        try (GradientCollector gc = t.newGradientCollector()) {
            NDArray pred = t.forward(new NDList(x)).singletonOrThrow();
            gc.backward(t.getLoss().evaluate(new NDList(y), new NDList(pred)));
        }
        return t;
    }

    private static List<Pair<String, Parameter>> params(Trainer t) {
        List<Pair<String, Parameter>> out = new ArrayList<>();
        t.getModel().getBlock().getParameters().forEach(out::add);
        return out;
    }

    @Test
    void agcRescalesEachOverlargeOutputRowToLambdaTimesItsWeightNormAndLeavesTheFinalLayer() {
        try (Model model = Model.newInstance("agc")) {
            Trainer t = trainerWithGradients(model);
            List<Pair<String, Parameter>> ps = params(t);
            List<float[]> w = new ArrayList<>();
            List<float[]> g = new ArrayList<>();
            for (Pair<String, Parameter> p : ps) {
                w.add(p.getValue().getArray().toFloatArray());
                g.add(p.getValue().getArray().getGradient().toFloatArray());
            }
            new Agc(0.01f, 1e-3f).clip(t);
            // first layer weight (4 x 3): row-wise
            float[] after = ps.get(0).getValue().getArray().getGradient().toFloatArray();
            int clippedRows = 0;
            for (int r = 0; r < 4; r++) {
                double wn = 0;
                double gn = 0;
                for (int c = 0; c < 3; c++) {
                    wn += w.get(0)[r * 3 + c] * w.get(0)[r * 3 + c];
                    gn += g.get(0)[r * 3 + c] * g.get(0)[r * 3 + c];
                }
                double max = Math.max(Math.sqrt(wn), 1e-3) * 0.01;
                double scale = Math.sqrt(gn) < max ? 1.0 : max / Math.max(Math.sqrt(gn), 1e-6);
                clippedRows += scale < 1 ? 1 : 0;
                for (int c = 0; c < 3; c++) {
                    assertThat((double) after[r * 3 + c]).isCloseTo(g.get(0)[r * 3 + c] * scale,
                            within(1e-5 * Math.abs(g.get(0)[r * 3 + c]) + 1e-7));
                }
            }
            assertThat(clippedRows).as("the batch makes first-layer gradients far above 1% of the weights").isPositive();
            // the first layer's bias is one unit; the final layer (last weight and bias) is untouched
            assertThat(ps.get(ps.size() - 1).getValue().getArray().getGradient().toFloatArray()).containsExactly(g.get(ps.size() - 1));
            assertThat(ps.get(ps.size() - 2).getValue().getArray().getGradient().toFloatArray()).containsExactly(g.get(ps.size() - 2));
            t.close();
        }
    }

    @Test
    void globalNormClipFollowsClipGradNormSemantics() {
        try (Model model = Model.newInstance("clip")) {
            Trainer t = trainerWithGradients(model);
            double before = new GlobalNormClipper(new NormRule.Fixed(Double.POSITIVE_INFINITY)).clip(t);
            assertThat(before).isGreaterThan(1.0);
            new GlobalNormClipper(new NormRule.Fixed(1.0)).clip(t);
            double sumSq = 0;
            for (Pair<String, Parameter> p : params(t)) {
                for (float v : p.getValue().getArray().getGradient().toFloatArray()) {
                    sumSq += (double) v * v;
                }
            }
            assertThat(Math.sqrt(sumSq)).isCloseTo(before / (before + 1e-6), within(1e-4));
            t.close();
        }
    }
}
