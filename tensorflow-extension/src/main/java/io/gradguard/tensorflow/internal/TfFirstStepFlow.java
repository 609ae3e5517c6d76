package io.gradguard.tensorflow.internal;

import io.gradguard.core.diagnose.FirstStepFlowWarning;
import io.gradguard.tensorflow.doctor.FlowReport;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The gradient-flow check the TensorFlow guard runs on its first step, from numbers the step measured anyway (the
 * per-variable gradient norms) and one small run after it (the pre-update weight norms the in-graph snapshot holds,
 * and each weight's distance from them: the first update, whatever the optimizer). It reads the weight gradients'
 * trend with depth (the weights in gradient order, which is creation order for the usual layer stacks) and the first
 * update relative to each weight, against the bands of {@link FirstStepFlowWarning}, as the DJL guard's; the doctor
 * ({@code io.gradguard.tensorflow.doctor.TfFlowCheck}) measures more (the backpropagated signal layer by layer).
 */
final class TfFirstStepFlow {

    /** Start of the warning, as the DJL guard's. */
    static final String WARNING = FirstStepFlowWarning.WARNING;

    private TfFirstStepFlow() {}

    /**
     * @param names the trainable variables' names, in gradient order
     * @param ranks their ranks (a weight has 2 or more dimensions; biases and scales are not judged)
     * @param grads their gradient norms at the first step
     * @param norms the snapshot norms, then the first update's norms, as {@link GuardedGraph#firstStepNorms()} gives
     *     them; null when no snapshot was taken (the trend alone is judged)
     * @return the warning, or null when the flow is in range or cannot be judged
     */
    static String warning(List<String> names, List<Integer> ranks, double[] grads, double[] norms) {
        int n = names.size();
        if (ranks.size() != n || grads.length != n || norms != null && norms.length != 2 * n) {
            return null;
        }
        List<Double> weightGrads = new ArrayList<>();
        String worst = null;
        double worstRatio = 0;
        int over = 0;
        int weights = 0;
        for (int i = 0; i < n; i++) {
            if (ranks.get(i) < 2) {
                continue;
            }
            weights++;
            weightGrads.add(grads[i]);
            if (norms != null && norms[i] > 0) {
                double ratio = norms[n + i] / norms[i];
                if (FirstStepFlowWarning.updateTooLarge(ratio)) {
                    over++;
                    if (ratio > worstRatio) {
                        worstRatio = ratio;
                        worst = names.get(i);
                    }
                }
            }
        }
        List<String> found = new ArrayList<>();
        OptionalDouble slope = FlowReport.logSlope(weightGrads);
        if (slope.isPresent() && weights >= 2) {
            // the gradients' growth per layer on their way back to the input, compounded over the depth
            double perLayer = Math.exp(-slope.getAsDouble());
            String c = FirstStepFlowWarning.compoundFinding(perLayer, Math.pow(perLayer, weights - 1), weights, "weights");
            if (c != null) {
                found.add(c);
            }
        }
        if (worst != null) {
            found.add(FirstStepFlowWarning.updateFinding(worst, worstRatio, null, over, weights, Double.NaN));
        }
        return FirstStepFlowWarning.message(found, "io.gradguard.tensorflow.doctor.TfFlowCheck measures the graph at"
                + " initialization and TfReinit re-initializes its variables");
    }
}
