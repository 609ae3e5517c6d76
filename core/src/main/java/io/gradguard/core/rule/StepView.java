package io.gradguard.core.rule;

import io.gradguard.core.Action;

/**
 * One step as the ladder's rules see it: the adapter's numbers and what the in-step rungs (skip, clip) made
 * of them. Built by the guard once per step; every rule reads the same view.
 *
 * @param step the step index
 * @param loss the batch loss (NaN when unknown)
 * @param lossKnown whether the adapter saw the loss
 * @param norm the global gradient norm
 * @param finite true when the norm and the (known) loss are finite
 * @param action what the in-step rungs do with the step: {@link Action#STEP}, {@link Action#CLIP} or
 *     {@link Action#SKIP}
 * @param clipCoef the clip coefficient (1 unless clipped)
 * @param outlier the norm (or the loss with a spiking norm) is an outlier batch
 * @param normSpike the norm is a spike against its running statistics
 * @param lossSpike the loss is a spike against its running statistics
 * @param skipsInARow outlier batches skipped in a row before this step
 * @param lrScale the learning-rate scale in force
 * @param weightsCorrupted the step is non-finite, the update before it was a healthy one, and the parameters
 *     themselves are now non-finite: they were corrupted between the steps, not by an update (a healthy update
 *     of finite gradients cannot make a weight NaN or infinite)
 * @param paramNorms the gradient norm of each parameter (may be null when the adapter measured none)
 */
public record StepView(long step, double loss, boolean lossKnown, double norm, boolean finite, Action action,
        double clipCoef, boolean outlier, boolean normSpike, boolean lossSpike, int skipsInARow, double lrScale,
        boolean weightsCorrupted, double[] paramNorms) {

    /** @return true when the step's update is clipped because its norm is a spike */
    public boolean clippedSpike() {
        return action == Action.CLIP && normSpike;
    }
}
