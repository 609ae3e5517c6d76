package io.gradguard.tensorflow.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The first-step warning's two readings on given numbers (the graph runs are in {@code TfFirstStepFlowTest}). */
class TfFirstStepFlowRuleTest {

    static final List<String> NAMES = List.of("w0", "b0", "w1", "b1", "w2", "b2", "w3", "b3", "w4", "b4", "w5", "b5");
    static final List<Integer> RANKS = List.of(2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1);

    /** Gradient norms in gradient order, weights growing {@code g} times per layer from the output back. */
    static double[] grads(double g) {
        double[] out = new double[NAMES.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.pow(g, 5 - i / 2);
        }
        return out;
    }

    /** Snapshot norms of 1, then updates of {@code u} to every variable. */
    static double[] norms(double u) {
        double[] out = new double[2 * NAMES.size()];
        for (int i = 0; i < NAMES.size(); i++) {
            out[i] = 1;
            out[NAMES.size() + i] = u;
        }
        return out;
    }

    @Test
    void gradientsThatCompoundBeyondAHundredOverTheDepthAreWarnedOf() {
        // x3 per layer over 6 weights: x243 towards the input
        assertThat(TfFirstStepFlow.warning(NAMES, RANKS, grads(3), norms(0.01))).startsWith(TfFirstStepFlow.WARNING)
                .contains("grows x3.00 per layer towards the input, x243 over 6 weights").doesNotContain("first update");
        assertThat(TfFirstStepFlow.warning(NAMES, RANKS, grads(1 / 3.0), null)).contains("shrinks");
        // x2 per layer: x32, inside the band
        assertThat(TfFirstStepFlow.warning(NAMES, RANKS, grads(2), norms(0.01))).isNull();
    }

    @Test
    void aFirstUpdateLargerThanItsWeightIsWarnedOfAndBiasesAreNotJudged() {
        assertThat(TfFirstStepFlow.warning(NAMES, RANKS, grads(1), norms(1.5)))
                .contains("the first update moves w0 by 1.50x its norm").contains("6 of 6 weights above");
        double[] onlyBias = norms(0.01);
        onlyBias[NAMES.size() + 1] = 50;
        assertThat(TfFirstStepFlow.warning(NAMES, RANKS, grads(1), onlyBias)).isNull();
        assertThat(TfFirstStepFlow.warning(NAMES, RANKS, grads(1), null)).isNull();
        // numbers that do not fit the variables are not judged
        assertThat(TfFirstStepFlow.warning(NAMES, RANKS, new double[3], null)).isNull();
    }
}
