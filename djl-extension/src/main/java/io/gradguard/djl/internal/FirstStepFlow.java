package io.gradguard.djl.internal;

import ai.djl.nn.Parameter;
import ai.djl.training.optimizer.Optimizer;
import io.gradguard.core.RunInfo;
import io.gradguard.djl.doctor.FlowCheck;
import io.gradguard.djl.doctor.FlowReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The gradient-flow check a guard runs on its first step, from the norms it measured for that step anyway: no pass of
 * its own, no device work beyond the weight norms (in the step's own host copy when the step records its layers). It
 * reads the weight gradients' trend with depth and the update each weight's first step makes relative to its norm
 * ({@link FlowCheck#ofStep}), against bands wider than the doctor's; a non-finite value is left to the guard's ladder.
 */
final class FirstStepFlow {

    /**
     * The weight gradients' size compounded over the depth beyond this factor (or below its inverse) is warned of: ten
     * times wider than the doctor's range, since this warning comes unasked, on every run.
     */
    static final double COMPOUND_WARN = 100;

    /** A first update larger than the weight itself is warned of (the doctor's range ends at a tenth). */
    static final double UPDATE_WARN = 1;

    private FirstStepFlow() {}

    /**
     * @param inspector the step's inspector (the parameters, in the order of the norms)
     * @param grads the step's per-parameter gradient norms
     * @param weights the per-parameter weight norms
     * @param optimizer the trainer's optimizer, or null when it could not be reached
     * @param loss the step's loss, NaN when unknown
     * @return the warning to give, or null when the flow is in range (or cannot be judged)
     */
    static String warning(GradientInspector inspector, double[] grads, double[] weights, Optimizer optimizer, double loss) {
        if (grads.length != inspector.size() || weights == null || weights.length != grads.length) {
            return null;
        }
        double lr = optimizer == null ? Double.NaN : OptimizerAccess.learningRate(optimizer, 1);
        List<String> names = inspector.describe().stream().map(RunInfo.Parameter::name).toList();
        List<Parameter> params = inspector.parameters();
        FlowReport r = FlowCheck.ofStep(names, params, grads, weights, optimizer, lr, loss);
        List<String> found = new ArrayList<>();
        double c = r.gradCompound();
        if (Double.isFinite(c) && (c > COMPOUND_WARN || c < 1 / COMPOUND_WARN)) {
            found.add(String.format(Locale.ROOT, "the weight gradients' size %s x%.3g per layer towards the input, x%.3g"
                    + " over %d layers (warned outside [%.3g, %.3g]): %s", c > 1 ? "grows" : "shrinks",
                    r.gradGrowthPerLayer(), c, r.layers().size(), 1 / COMPOUND_WARN, COMPOUND_WARN,
                    c > 1 ? "they explode on their way back" : "they vanish on their way back"));
        }
        FlowReport.Layer worst = null;
        int over = 0;
        for (FlowReport.Layer l : r.layers()) {
            if (l.updateToWeight() > UPDATE_WARN) {
                over++;
                worst = worst == null || l.updateToWeight() > worst.updateToWeight() ? l : worst;
            }
        }
        if (worst != null) {
            found.add(String.format(Locale.ROOT, "the first update moves %s by %.3gx its norm (%s; warned above %.3g), %d"
                    + " of %d weights above: the learning rate %.3g is too high for the model as it is initialized", worst.name(),
                    worst.updateToWeight(), r.updateRule(), UPDATE_WARN, over, r.layers().size(), lr));
        }
        if (found.isEmpty()) {
            return null;
        }
        return FlowCheck.FIRST_STEP_WARNING + ": " + String.join("; ", found)
                + ". io.gradguard.djl.doctor.Doctor measures the model at initialization and tries the structure fixes"
                + " and learning rates that would bring it back in range";
    }
}
