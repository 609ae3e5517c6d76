package io.gradguard.core;

/**
 * The numbers an adapter measured for one optimizer step, after backward and before the update.
 *
 * @param step the step index, from 0
 * @param loss the batch loss; NaN when unknown (see {@code lossKnown}) or when it is NaN
 * @param lossKnown whether the adapter saw the loss
 * @param gradNorm the global L2 norm of all gradients (non-finite when any gradient is)
 * @param paramGradNorms the L2 norm of each parameter's gradient, in {@link RunInfo#parameters()} order
 */
public record StepStats(long step, double loss, boolean lossKnown, double gradNorm, double[] paramGradNorms) {

    /**
     * Builds stats from per-parameter norms, computing the global norm as the root of the sum of
     * squares.
     *
     * @param step the step
     * @param loss the loss, or NaN with {@code lossKnown=false}
     * @param lossKnown whether the loss is known
     * @param paramGradNorms per-parameter gradient norms
     * @return the stats
     */
    public static StepStats of(long step, double loss, boolean lossKnown, double[] paramGradNorms) {
        double sumSq = 0;
        for (double n : paramGradNorms) {
            sumSq += n * n;
        }
        return new StepStats(step, loss, lossKnown, Math.sqrt(sumSq), paramGradNorms);
    }

    /** @return true when the global norm is finite */
    public boolean gradientsFinite() {
        return Double.isFinite(gradNorm);
    }

    /** @return true when the loss is known and not finite */
    public boolean lossNonFinite() {
        return lossKnown && !Double.isFinite(loss);
    }
}
