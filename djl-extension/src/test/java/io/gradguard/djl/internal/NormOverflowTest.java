package io.gradguard.djl.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.gradguard.core.Action;
import io.gradguard.core.Decision;
import io.gradguard.core.GuardConfig;
import java.util.function.BiConsumer;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;

/**
 * Gradients that are finite but so large that a float32 sum of their squares overflows (PyTorch engine): the
 * guard must measure their real norm and must not call them non-finite. Only an element that is itself NaN or
 * infinite makes a gradient non-finite.
 */
class NormOverflowTest {

    private static final int FEATURES = 1000;
    private static final float X = 1e25f;

    /** One forward and backward of {@code mean(x . w)} with every input 1e25: every weight gradient is 1e25. */
    private static void withGradients(float extra, BiConsumer<Trainer, NDArray> check) {
        try (Model model = Model.newInstance("overflow")) {
            model.setBlock(Linear.builder().setUnits(1).optBias(false).build());
            DefaultTrainingConfig cfg = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(1e-30f)).build());
            try (Trainer t = model.newTrainer(cfg)) {
                t.initialize(new Shape(4, FEATURES));
                NDArray x = t.getManager().full(new Shape(4, FEATURES), X);
                if (extra != 0) {
                    x.set(new NDIndex("0, 0"), extra);
                }
                try (GradientCollector gc = t.newGradientCollector()) {
                    NDArray loss = t.forward(new NDList(x)).singletonOrThrow().mean();
                    gc.backward(loss);
                    check.accept(t, loss);
                }
            }
        }
    }

    @Test
    void aFiniteGradientWhoseFloat32SumOfSquaresOverflowsHasItsRealNorm() {
        withGradients(0, (t, loss) -> {
            // the engine's own float32 norm overflows: this is the case the guard has to handle
            NDArray g = t.getModel().getBlock().getParameters().get(0).getValue().getArray().getGradient();
            assertThat(g.norm().getFloat()).isInfinite();
            assertThat(g.isInfinite().any().getBoolean()).isFalse();

            GradientInspector inspector = new GradientInspector(t);
            GradientInspector.Measurement m = inspector.measure(loss, false);
            double expected = X * Math.sqrt(FEATURES); // d mean / d w_j = the mean over the 4 rows of 1e25
            assertThat(m.gradNorms()[0]).isFinite().isCloseTo(expected, Percentage.withPercentage(0.01));
        });
    }

    @Test
    void theGuardDoesNotCallAHugeFiniteStepNonFinite() {
        withGradients(0, (t, loss) -> {
            try (DjlGuardSession session = new DjlGuardSession(GuardConfig.ofDefaults(), "loop")) {
                session.prepare(t, true);
                Decision d = session.inspect(t, loss);
                assertThat(d.action()).as(d.toString()).isNotEqualTo(Action.SKIP);
                assertThat(d.toString()).doesNotContain("non-finite");
            }
        });
    }

    @Test
    void anInfiniteElementStillMakesTheGradientNonFinite() {
        withGradients(Float.POSITIVE_INFINITY, (t, loss) -> {
            GradientInspector.Measurement m = new GradientInspector(t).measure(loss, false);
            assertThat(m.gradNorms()[0]).isInfinite();
            try (DjlGuardSession session = new DjlGuardSession(GuardConfig.ofDefaults(), "loop")) {
                session.prepare(t, true);
                Decision d = session.inspect(t, loss);
                assertThat(d.action()).isEqualTo(Action.SKIP);
            }
        });
    }
}
