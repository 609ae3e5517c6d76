package io.gradguard.djl.internal;

import ai.djl.nn.Parameter;
import ai.djl.training.optimizer.Optimizer;
import io.gradguard.core.RunInfo;
import io.gradguard.core.diagnose.FirstStepFlowWarning;
import io.gradguard.djl.doctor.FlowCheck;
import io.gradguard.djl.doctor.FlowReport;
import java.util.ArrayList;
import java.util.List;

/**
 * The gradient-flow check a guard runs on its first step, from the norms it measured for that step anyway: no pass of
 * its own, no device work beyond the weight norms (in the step's own host copy when the step records its layers). It
 * reads the weight gradients' trend with depth and the update each weight's first step makes relative to its norm
 * ({@link FlowCheck#ofStep}), against the bands of {@link FirstStepFlowWarning} (wider than the doctor's); a non-finite
 * value is left to the guard's ladder.
 */
final class FirstStepFlow {

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
        String c = FirstStepFlowWarning.compoundFinding(r.gradGrowthPerLayer(), r.gradCompound(), r.layers().size(), "layers");
        if (c != null) {
            found.add(c);
        }
        FlowReport.Layer worst = null;
        int over = 0;
        for (FlowReport.Layer l : r.layers()) {
            if (FirstStepFlowWarning.updateTooLarge(l.updateToWeight())) {
                over++;
                worst = worst == null || l.updateToWeight() > worst.updateToWeight() ? l : worst;
            }
        }
        if (worst != null) {
            found.add(FirstStepFlowWarning.updateFinding(worst.name(), worst.updateToWeight(), r.updateRule(), over,
                    r.layers().size(), lr));
        }
        return FirstStepFlowWarning.message(found, "io.gradguard.djl.doctor.Doctor measures the model at initialization and"
                + " tries the structure fixes and learning rates that would bring it back in range");
    }
}
