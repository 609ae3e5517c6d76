package io.gradguard.tensorflow.doctor;

import java.util.Optional;
import java.util.OptionalDouble;
import org.tensorflow.ndarray.Shape;

/**
 * One variable's row of a {@link FlowReport}: its gradient and weight norms at initialization, averaged
 * over the check's batches (the root mean square of the per-batch gradient norms), and what one update
 * would do to it.
 *
 * @param name the variable's op name
 * @param shape its shape
 * @param weight true for a weight (rank 2 or more: matrices, kernels), false for a bias or a scale; only
 *     weights are judged against the update ranges and enter the trend
 * @param gradNorm the loss gradient's L2 norm with respect to the variable (sums of squares in float64)
 * @param weightNorm the variable's L2 norm
 * @param gradToWeight {@code gradNorm / weightNorm} (infinite for an all-zero variable)
 * @param updateRatio {@code lr * gradNorm / weightNorm}: the relative size of one plain gradient-descent
 *     step, and of the first step of momentum SGD (momentum multiplies later steps by up to
 *     {@code 1 / (1 - momentum)})
 * @param signUpdateRatio {@code lr * sqrt(size) / weightNorm}: the relative size of a step of {@code lr}
 *     on every element, which is what Adam's and RMSProp's first steps are about (their update is
 *     normalized per element, so it does not scale with the gradient's norm and {@code updateRatio} does
 *     not predict it)
 * @param signalNorm the L2 norm of the loss gradient with respect to the output of the weight's layer op
 *     (matMul, convolution): the signal the layer passes back; empty for a non-weight or a weight used by
 *     zero or several layer ops
 * @param problem why the variable is out of range, empty when it is in range
 */
public record VariableFlow(String name, Shape shape, boolean weight, double gradNorm, double weightNorm,
        double gradToWeight, double updateRatio, double signUpdateRatio, OptionalDouble signalNorm,
        Optional<String> problem) {

    /** @return true when the variable is out of range ({@link #problem} says why) */
    public boolean outOfRange() {
        return problem.isPresent();
    }
}
