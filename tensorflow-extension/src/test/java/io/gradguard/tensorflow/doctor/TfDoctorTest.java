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

    /** Trains plain gradient descent for STEPS steps; returns {eval loss before, eval loss after, first non-finite step}. */
    static float[] train(TfMlpScenario sc, boolean fix) {
        try (TfMlpScenario.Model m = sc.build(); Session s = TfMlpScenario.session(m.graph)) {
            List<TfMlpScenario.Batch> data = batches(sc, 2);
            try {
                FlowReport r = TfFlowCheck.ofLearningRate(LR).check(s, m.loss, feeds(data, m));
                assertThat(r.variables()).hasSize(18);
            } finally {
                data.forEach(TfMlpScenario.Batch::close);
            }
            if (fix) {
                TfReinit.apply(s, m.loss, InitScheme.HE, 42L);
            }
            float before = sc.evaluate(s, m);
            // the optimizer is built after the check's and the fix's ops, in the same graph and session
            Op train = new GradientDescent(m.graph, LR).minimize(m.loss, "train");
            TfMlpScenario.Data d = sc.trainData();
            float[] xs = new float[TfMlpScenario.BATCH * TfMlpScenario.IN];
            float[] ys = new float[TfMlpScenario.BATCH];
            int firstNan = -1;
            for (int i = 0; i < STEPS; i++) {
                d.next(xs, ys);
                float l = TfMlpScenario.run(s, m, xs, ys, (ss, runner) -> runner.addTarget(train).run());
                if (firstNan < 0 && !Float.isFinite(l)) {
                    firstNan = i;
                }
            }
            return new float[] {before, sc.evaluate(s, m), firstNan};
        }
    }

    static final int STEPS = 40;

    @Test
    void plainGradientDescentExplodesOnTheOverScaledNetAndTrainsAfterTheHeFix() {
        TfMlpScenario sc = RELU.withInitGain(GAIN);
        float[] unfixed = train(sc, false);
        float[] fixed = train(sc, true);
        System.out.printf(Locale.ROOT, "plain GD lr %s, %d steps: unfixed eval loss %s -> %s (first non-finite step %d);"
                + " He-fixed %s -> %s%n", LR, STEPS, unfixed[0], unfixed[1], (int) unfixed[2], fixed[0], fixed[1]);
        assertThat(unfixed[1]).as("unfixed explodes").satisfiesAnyOf(
                l -> assertThat(l).isNaN(), l -> assertThat(l).isGreaterThan(100 * fixed[1]));
        assertThat(fixed[2]).isEqualTo(-1f);
        assertThat(fixed[1]).as("fixed trains").isFinite().isLessThan(0.5f * fixed[0]);
    }

    @Test
    void healthyGraphsHaveNothingOutOfRange() {
        for (TfMlpScenario sc : new TfMlpScenario[] {RELU, new TfMlpScenario()}) {
            List<TfMlpScenario.Batch> data = batches(sc, 2);
            try (TfMlpScenario.Model m = sc.build(); Session s = TfMlpScenario.session(m.graph)) {
                FlowReport r = TfFlowCheck.ofLearningRate(LR).check(s, m.loss, feeds(data, m));
                System.out.print(r.text());
                assertThat(r.healthy()).as(r.text()).isTrue();
                assertThat(r.gradientGrowth().getAsDouble()).isBetween(1 / 1.5, 1.5);
            } finally {
                data.forEach(TfMlpScenario.Batch::close);
            }
        }
    }

    @Test
    void aCheckAfterGuardedOptimizerSeesTheModelsVariablesOnlyAndTheGuardedRunGoesOn() {
        TfMlpScenario sc = new TfMlpScenario();
        List<TfMlpScenario.Batch> data = batches(sc, 1);
        try (TfMlpScenario.Model m = sc.build(); Session s = TfMlpScenario.session(m.graph)) {
            io.gradguard.tensorflow.GuardedOptimizer opt = io.gradguard.tensorflow.GuardedOptimizer.wrap(
                    TfMlpScenario.sgdMomentum(m.graph, TfMlpScenario.TUNED_SGD_MOMENTUM_LR),
                    io.gradguard.core.GuardConfig.ofDefaults());
            Op train = opt.minimize(m.loss, "train");
            float first = TfMlpScenario.run(s, m, new float[TfMlpScenario.BATCH * TfMlpScenario.IN],
                    new float[TfMlpScenario.BATCH], (ss, r) -> opt.run(ss, r.addTarget(train)));
            FlowReport r = TfFlowCheck.ofLearningRate(TfMlpScenario.TUNED_SGD_MOMENTUM_LR).check(s, m.loss, feeds(data, m));
            // the guard's snapshot copies and Momentum's accumulators are variables too, but not the loss's
            assertThat(r.variables()).extracting(VariableFlow::name)
                    .isEqualTo(m.variables.stream().map(v -> v.op().name()).toList());
            float second = TfMlpScenario.run(s, m, new float[TfMlpScenario.BATCH * TfMlpScenario.IN],
                    new float[TfMlpScenario.BATCH], (ss, run) -> opt.run(ss, run.addTarget(train)));
            assertThat(second).isFinite();
            assertThat(first).isFinite();
            assertThat(opt.summary().steps()).isEqualTo(2);
            assertThat(opt.mismatches()).isZero();
            opt.close();
        } finally {
            data.forEach(TfMlpScenario.Batch::close);
        }
    }
}
