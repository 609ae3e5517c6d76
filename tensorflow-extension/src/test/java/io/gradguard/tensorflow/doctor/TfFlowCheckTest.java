package io.gradguard.tensorflow.doctor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/** {@link TfFlowCheck} on tiny real graphs: float64 sums, and what it refuses. */
class TfFlowCheckTest {

    @Test
    void sumsSquaresInFloat64SoAHugeFiniteGradientHasAFiniteNorm() {
        try (Graph g = new Graph(); Session s = new Session(g)) {
            Ops tf = Ops.create(g);
            // gradient 2w = 2e19 per element: its float32 square (4e38) is finite, the sum of 4 is not
            Variable<TFloat32> w = tf.withName("w").variable(tf.fill(tf.constant(new int[] {2, 2}), tf.constant(1e19f)));
            // (tf.identity: TensorFlow Java 1.1.0's gradient of square() taken straight on a variable crashes the JVM,
            // optimizer.minimize included)
            Operand<TFloat32> loss = tf.reduceSum(tf.math.square(tf.identity(w)), tf.constant(new int[] {0, 1}));
            FlowReport r = TfFlowCheck.ofLearningRate(1e-3).check(s, loss, List.of(runner -> runner));
            VariableFlow row = r.variables().get(0);
            assertThat(row.gradNorm()).isCloseTo(4e19, within(1e13));
            assertThat(row.weightNorm()).isCloseTo(2e19, within(1e13));
            assertThat(row.updateRatio()).isCloseTo(2e-3, within(1e-9));
            assertThat(row.problem()).isEmpty();
            assertThat(r.gradientGrowth()).as("one weight: no trend").isEmpty();
        }
    }

    @Test
    void aZeroWeightMatrixIsOutOfRangeAndSoIsAVanishingGradient() {
        try (Graph g = new Graph(); Session s = new Session(g)) {
            Ops tf = Ops.create(g);
            Variable<TFloat32> zero = tf.withName("zeros_w").variable(tf.fill(tf.constant(new int[] {2, 2}), tf.constant(0f)));
            Variable<TFloat32> tiny = tf.withName("tiny_w").variable(tf.fill(tf.constant(new int[] {2, 2}), tf.constant(1f)));
            Operand<TFloat32> loss = tf.math.add(tf.reduceSum(tf.math.square(tf.identity(zero)), tf.constant(new int[] {0, 1})),
                    tf.math.mul(tf.constant(1e-12f), tf.reduceSum(tiny, tf.constant(new int[] {0, 1}))));
            FlowReport r = TfFlowCheck.ofLearningRate(0.01).check(s, loss, List.of(runner -> runner));
            assertThat(r.variables()).extracting(VariableFlow::name).containsExactly("zeros_w", "tiny_w");
            assertThat(r.firstOutOfRange()).get().extracting(VariableFlow::name).isEqualTo("zeros_w");
            assertThat(r.variables().get(0).problem()).get().asString().startsWith("all-zero weight matrix");
            assertThat(r.variables().get(1).problem()).get().asString().contains("below 1.00e-07");
            assertThat(r.healthy()).isFalse();
        }
    }

    @Test
    void badArgumentsNameTheValueTheRangeAndWhereItCameFrom() {
        assertThatThrownBy(() -> TfFlowCheck.ofLearningRate(-1))
                .hasMessage("learningRate must be finite and greater than 0, but was -1.0");
        assertThatThrownBy(() -> TfFlowCheck.custom().build())
                .hasMessage("learningRate is required (the rate the user trains with), but was not set");
        assertThatThrownBy(() -> TfFlowCheck.custom().learningRate(0.1).growthRange(0.5, 1.0))
                .hasMessage("maxGrowth must be finite and greater than 1, but was 1.0");
        assertThatThrownBy(() -> TfFlowCheck.custom().learningRate(0.1).minUpdateRatio(1).maxUpdateRatio(0.5).build())
                .hasMessage("minUpdateRatio must be lower than maxUpdateRatio, but was 1.0 >= 0.5");
        try (Graph g = new Graph(); Session s = new Session(g)) {
            Ops tf = Ops.create(g);
            Variable<TFloat32> w = tf.withName("w").variable(tf.fill(tf.constant(new int[] {2, 2}), tf.constant(1f)));
            Operand<TFloat32> loss = tf.withName("loss").reduceSum(w, tf.constant(new int[] {0, 1}));
            TfFlowCheck check = TfFlowCheck.ofLearningRate(0.1);
            assertThatThrownBy(() -> check.check(s, loss, List.of()))
                    .hasMessage("batches must hold 1 or more feeds, but was empty");
            assertThatThrownBy(() -> check.check(s, loss, List.of(w, loss), List.of(r -> r)))
                    .hasMessageStartingWith("variables[1] 'loss' is a Sum op; expected a graph variable");
            assertThatThrownBy(() -> check.check(s, tf.constant(1), List.of(r -> r)))
                    .hasMessageContaining("is TInt32; expected a floating-point loss");
            assertThatThrownBy(() -> check.check(s, tf.constant(1f), List.of(r -> r)))
                    .hasMessageContaining("depends on no graph variable");
        }
    }
}
