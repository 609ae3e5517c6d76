package io.gradguard.tensorflow.doctor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;

/** {@link TfReinit} on tiny real graphs: values, seeds, what is kept and what is refused. */
class TfReinitTest {

    private static double[] values(Session s, Variable<?> v) {
        try (Result r = s.runner().fetch(v).run()) {
            var t = r.get(0);
            double[] out = new double[(int) t.size()];
            if (t instanceof TFloat32) {
                float[] f = new float[out.length];
                t.asRawTensor().data().asFloats().read(f);
                for (int i = 0; i < f.length; i++) {
                    out[i] = f[i];
                }
            } else {
                t.asRawTensor().data().asDoubles().read(out);
            }
            return out;
        }
    }

    @Test
    void orthogonalGivesASquareRecurrentMatrixOrthonormalColumnsAndKeepsNameAndShape() {
        try (Graph g = new Graph(); Session s = new Session(g)) {
            Ops tf = Ops.create(g);
            Variable<TFloat32> rec = tf.withName("rnn_recurrent").variable(tf.fill(tf.constant(new int[] {48, 48}), tf.constant(0.3f)));
            ReinitReport r = TfReinit.apply(s, List.of(rec), InitScheme.ORTHOGONAL, 5L);
            assertThat(r.changed()).singleElement().satisfies(c -> {
                assertThat(c.name()).isEqualTo("rnn_recurrent");
                assertThat(c.shape()).isEqualTo(Shape.of(48, 48));
                assertThat(c.oldStd()).isZero();
                assertThat(c.newStd()).isCloseTo(1 / Math.sqrt(48), within(0.01));
            });
            assertThat(g.operation("rnn_recurrent").type()).isEqualTo("VariableV2");
            double[] w = values(s, rec);
            double worst = 0;
            for (int a = 0; a < 48; a++) {
                for (int b = 0; b < 48; b++) {
                    double dot = 0;
                    for (int i = 0; i < 48; i++) {
                        dot += w[i * 48 + a] * w[i * 48 + b];
                    }
                    worst = Math.max(worst, Math.abs(dot - (a == b ? 1 : 0)));
                }
            }
            assertThat(worst).as("|W^T W - I| max").isLessThan(1e-5);
        }
    }

    @Test
    void heAndXavierDrawTheirStandardDeviationsFromTheSeedAndLeaveBiasesAlone() {
        try (Graph g = new Graph(); Session s = new Session(g)) {
            Ops tf = Ops.create(g);
            Variable<TFloat64> kernel = tf.withName("conv_kernel").variable(tf.fill(tf.constant(new int[] {3, 3, 16, 32}), tf.constant(1.0)));
            Variable<TFloat32> dense = tf.withName("dense_kernel").variable(tf.fill(tf.constant(new int[] {64, 128}), tf.constant(1f)));
            Variable<TFloat32> bias = tf.withName("dense_bias").variable(tf.fill(tf.constant(new int[] {128}), tf.constant(0.5f)));
            ReinitReport he = TfReinit.apply(s, List.of(kernel, dense, bias), InitScheme.HE, 9L);
            assertThat(he.changed()).extracting(VariableChange::name).containsExactly("conv_kernel", "dense_kernel");
            assertThat(he.skipped()).singleElement().asString().startsWith("dense_bias");
            assertThat(he.changed().get(0).newStd()).isCloseTo(Math.sqrt(2.0 / (3 * 3 * 16)), within(0.005));
            assertThat(he.changed().get(1).newStd()).isCloseTo(Math.sqrt(2.0 / 64), within(0.005));
            assertThat(values(s, bias)).containsOnly(0.5);
            double[] first = values(s, dense);

            ReinitReport xavier = TfReinit.apply(s, List.of(dense), InitScheme.XAVIER, 9L);
            assertThat(xavier.changed().get(0).oldStd()).isCloseTo(he.changed().get(1).newStd(), within(1e-9));
            assertThat(xavier.changed().get(0).newStd()).isCloseTo(Math.sqrt(2.0 / (64 + 128)), within(0.005));

            TfReinit.apply(s, List.of(dense), InitScheme.HE, 9L);
            assertThat(values(s, dense)).as("same seed, same values").isEqualTo(first);
            TfReinit.apply(s, List.of(dense), InitScheme.HE, 10L);
            assertThat(values(s, dense)).as("another seed, other values").isNotEqualTo(first);
        }
    }

    @Test
    void refusesWhatItCannotAssignAndNamesIt() {
        try (Graph g = new Graph(); Session s = new Session(g)) {
            Ops tf = Ops.create(g);
            Variable<TFloat32> kernel = tf.withName("k").variable(tf.fill(tf.constant(new int[] {3, 3, 4, 4}), tf.constant(1f)));
            Variable<TInt32> counter = tf.withName("counter").variable(tf.fill(tf.constant(new int[] {2, 2}), tf.constant(1)));
            assertThatThrownBy(() -> TfReinit.apply(s, List.of(kernel), InitScheme.ORTHOGONAL, 1L))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("variables[0] 'k' has shape [3, 3, 4, 4]; ORTHOGONAL takes rank-2 matrices only (use HE or XAVIER for kernels)");
            assertThatThrownBy(() -> TfReinit.apply(s, List.of(kernel, counter), InitScheme.HE, 1L))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("variables[1] 'counter' holds TInt32; expected a floating-point variable");
            assertThatThrownBy(() -> TfReinit.apply(s, List.of(tf.math.add(kernel, kernel)), InitScheme.HE, 1L))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("variables[0] 'Add' is a Add op; expected a graph variable");
        }
    }
}
