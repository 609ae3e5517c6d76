package io.gradguard.tensorflow.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.models.tf.TfMlpScenario;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.framework.optimizers.GradientDescent;
import org.tensorflow.op.Op;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * The TensorFlow structure doctor on real graphs: the gradient-flow check and the He fix on a deep plain
 * ReLU MLP whose weights are initialized too large (the test-models scenario {@code TfMlpScenario}, 8
 * hidden ReLU layers of 32, at {@link #GAIN} times He's standard deviation).
 */
class TfDoctorTest {

    /** Weights at twice He's standard deviation: the backpropagated signal doubles per layer. */
    static final double GAIN = 2.0;
    /** Plain gradient descent at a rate that trains the He-initialized net. */
    static final float LR = 0.01f;
    static final TfMlpScenario RELU = new TfMlpScenario(8, 32, 7L, false);

    /** Two training batches as tensors; close them. */
    static List<TfMlpScenario.Batch> batches(TfMlpScenario sc, int n) {
        TfMlpScenario.Data d = sc.trainData();
        List<TfMlpScenario.Batch> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] xs = new float[TfMlpScenario.BATCH * TfMlpScenario.IN];
            float[] ys = new float[TfMlpScenario.BATCH];
            d.next(xs, ys);
            out.add(TfMlpScenario.Batch.of(xs, ys));
        }
        return out;
    }

    static List<BatchFeed> feeds(List<TfMlpScenario.Batch> batches, TfMlpScenario.Model m) {
        List<BatchFeed> out = new ArrayList<>();
        for (TfMlpScenario.Batch b : batches) {
            out.add(r -> r.feed(m.x, b.x()).feed(m.y, b.y()));
        }
        return out;
    }

    static float[] values(Session s, Variable<TFloat32> v) {
        try (Result r = s.runner().fetch(v).run()) {
            TFloat32 t = (TFloat32) r.get(0);
            float[] a = new float[(int) t.size()];
            t.asRawTensor().data().asFloats().read(a);
            return a;
        }
    }

    @Test
    void flowCheckNamesTheFirstLayerOfAnOverScaledReluNetAndHeBringsTheGrowthToOne() {
        TfMlpScenario sc = RELU.withInitGain(GAIN);
        List<TfMlpScenario.Batch> data = batches(sc, 2);
        try (TfMlpScenario.Model m = sc.build(); Session s = TfMlpScenario.session(m.graph)) {
            float[] before = values(s, m.variables.get(0));
            FlowReport bad = TfFlowCheck.ofLearningRate(LR).check(s, m.loss, m.variables, feeds(data, m));
            System.out.print("over-scaled ReLU net (gain " + GAIN + "):\n" + bad.text());
            assertThat(values(s, m.variables.get(0))).as("the check applies no update").isEqualTo(before);
            assertThat(bad.firstOutOfRange()).get().extracting(VariableFlow::name).isEqualTo("dense0_kernel");
            assertThat(bad.gradientGrowth().getAsDouble()).isGreaterThan(1.5);
            assertThat(bad.trendProblem()).isPresent();
            assertThat(bad.runs()).isEqualTo(2);

            ReinitReport fix = TfReinit.apply(s, m.variables, InitScheme.HE, 42L);
            System.out.print(fix.text());
            assertThat(fix.changed()).hasSize(9);
            assertThat(fix.skipped()).hasSize(9);
            VariableChange first = fix.changed().get(0);
            assertThat(first.oldStd() / first.newStd()).isCloseTo(GAIN, org.assertj.core.api.Assertions.within(0.5));

            FlowReport fixed = TfFlowCheck.ofLearningRate(LR).check(s, m.loss, m.variables, feeds(data, m));
            System.out.print("after He re-init:\n" + fixed.text());
            System.out.printf(Locale.ROOT, "growth per layer: before %.3f, after %.3f%n", bad.gradientGrowth().getAsDouble(),
                    fixed.gradientGrowth().getAsDouble());
            assertThat(fixed.gradientGrowth().getAsDouble()).isBetween(0.8, 1.25);
            assertThat(fixed.healthy()).as(fixed.text()).isTrue();
        } finally {
            data.forEach(TfMlpScenario.Batch::close);
        }
    }
}
