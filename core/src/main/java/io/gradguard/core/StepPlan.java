package io.gradguard.core;

import io.gradguard.core.clip.GlobalNormClip;

/**
 * The thresholds under which {@link Guard#decide} will act on the next step, fixed before that step's
 * numbers exist.
 *
 * <p>For adapters that must act inside a compiled graph in the same run that computes the gradients
 * (TensorFlow graph mode): the graph evaluates {@link #predict} on the step's global norm and loss and
 * applies the update unchanged, clipped or not at all; the numbers then reach {@link Guard#decide},
 * which returns the same action ({@link Action#STEP}, {@link Action#CLIP} with the same coefficient,
 * {@link Action#SKIP}) or a {@link Action#ROLLBACK} / {@link Action#ABORT}, which the adapter carries
 * out after the run. Every comparison is a strict {@code >} on doubles, so a graph that computes in
 * float64 reproduces it exactly. A threshold of {@code +Infinity} never fires.
 *
 * @param step the step index the plan is for
 * @param clipAbove clip when the norm is above this ({@code +Infinity}: never)
 * @param skipNormAbove skip the batch as an outlier when the norm is above this
 * @param skipLossAbove together with {@code skipLossNormAbove}: skip when the loss is above this ...
 * @param skipLossNormAbove ... and the norm is above this
 * @param spikeNormAbove a norm above this is a spike: the step is not healthy (no snapshot)
 * @param spikeLossAbove a loss above this is a spike: the step is not healthy (no snapshot)
 * @param skipNonFinite skip when the norm or the loss is not finite (false for {@code monitor})
 * @param skipAll skip whatever the numbers (batches skipped after a rollback)
 * @param snapshotIfHealthy snapshot the pre-update state when the step turns out healthy
 * @param lrScale the learning-rate scale to apply to this step's update
 * @param clipTo the norm a clipped step's gradients are scaled down to, at most {@code clipAbove} (a spike is
 *     recognised above {@code clipAbove} and clipped to {@code clipTo}: they differ while a calm run's spikes are
 *     judged with the wider {@code spike.calm} ratio)
 * @param capTo every step's gradients are first scaled down to at most this norm, before any other threshold
 *     judges them: the other thresholds see the capped norm, and a step that was only capped is still a healthy
 *     one ({@code +Infinity}: no cap; after a rollback, {@code recovery.percentile} of the norms since)
 */
public record StepPlan(
        long step,
        double clipAbove,
        double skipNormAbove,
        double skipLossAbove,
        double skipLossNormAbove,
        double spikeNormAbove,
        double spikeLossAbove,
        boolean skipNonFinite,
        boolean skipAll,
        boolean snapshotIfHealthy,
        double lrScale,
        double clipTo,
        double capTo) {

    /** The number of values {@link #toArray()} returns. */
    public static final int SIZE = 12;

    /**
     * A plan with no cap ({@code capTo = +Infinity}).
     *
     * @param step the step index the plan is for
     * @param clipAbove clip when the norm is above this
     * @param skipNormAbove skip the batch as an outlier when the norm is above this
     * @param skipLossAbove together with {@code skipLossNormAbove}: skip when the loss is above this ...
     * @param skipLossNormAbove ... and the norm is above this
     * @param spikeNormAbove a norm above this is a spike: the step is not healthy (no snapshot)
     * @param spikeLossAbove a loss above this is a spike: the step is not healthy (no snapshot)
     * @param skipNonFinite skip when the norm or the loss is not finite
     * @param skipAll skip whatever the numbers
     * @param snapshotIfHealthy snapshot the pre-update state when the step turns out healthy
     * @param lrScale the learning-rate scale to apply to this step's update
     * @param clipTo the norm a clipped step's gradients are scaled down to
     */
    public StepPlan(long step, double clipAbove, double skipNormAbove, double skipLossAbove, double skipLossNormAbove,
            double spikeNormAbove, double spikeLossAbove, boolean skipNonFinite, boolean skipAll, boolean snapshotIfHealthy,
            double lrScale, double clipTo) {
        this(step, clipAbove, skipNormAbove, skipLossAbove, skipLossNormAbove, spikeNormAbove, spikeLossAbove, skipNonFinite,
                skipAll, snapshotIfHealthy, lrScale, clipTo, Double.POSITIVE_INFINITY);
    }

    /**
     * A plan that clips down to the threshold it clips above ({@code clipTo == clipAbove}), with no cap.
     *
     * @param step the step index the plan is for
     * @param clipAbove clip when the norm is above this, down to it
     * @param skipNormAbove skip the batch as an outlier when the norm is above this
     * @param skipLossAbove together with {@code skipLossNormAbove}: skip when the loss is above this ...
     * @param skipLossNormAbove ... and the norm is above this
     * @param spikeNormAbove a norm above this is a spike: the step is not healthy (no snapshot)
     * @param spikeLossAbove a loss above this is a spike: the step is not healthy (no snapshot)
     * @param skipNonFinite skip when the norm or the loss is not finite
     * @param skipAll skip whatever the numbers
     * @param snapshotIfHealthy snapshot the pre-update state when the step turns out healthy
     * @param lrScale the learning-rate scale to apply to this step's update
     */
    public StepPlan(long step, double clipAbove, double skipNormAbove, double skipLossAbove, double skipLossNormAbove,
            double spikeNormAbove, double spikeLossAbove, boolean skipNonFinite, boolean skipAll, boolean snapshotIfHealthy,
            double lrScale) {
        this(step, clipAbove, skipNormAbove, skipLossAbove, skipLossNormAbove, spikeNormAbove, spikeLossAbove, skipNonFinite,
                skipAll, snapshotIfHealthy, lrScale, clipAbove, Double.POSITIVE_INFINITY);
    }

    /** A plan that never acts except skipping non-finite steps: what a graph runs when nobody feeds a plan. */
    public static final StepPlan SKIP_NONFINITE_ONLY = new StepPlan(-1, Double.POSITIVE_INFINITY,
            Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY,
            Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, true, false, false, 1.0);

    /**
     * What the plan does with a step of these numbers. This is the reference for any in-graph
     * implementation.
     *
     * @param norm the global gradient norm
     * @param loss the loss
     * @return the action, clip coefficient (1 unless clipping, 0 when skipping) and whether to snapshot
     */
    public Outcome predict(double norm, double loss) {
        if (skipAll) {
            return new Outcome(Action.SKIP, 0.0, false);
        }
        if (!Double.isFinite(norm) || !Double.isFinite(loss)) {
            return skipNonFinite ? new Outcome(Action.SKIP, 0.0, false) : new Outcome(Action.STEP, 1.0, false);
        }
        double cap = capCoef(norm);
        double n = norm * cap;
        if (n > skipNormAbove || (loss > skipLossAbove && n > skipLossNormAbove)) {
            return new Outcome(Action.SKIP, 0.0, false);
        }
        if (n > clipAbove) {
            return new Outcome(Action.CLIP, cap * clipCoef(n), false);
        }
        boolean healthy = !(n > spikeNormAbove) && !(loss > spikeLossAbove);
        return new Outcome(cap < 1.0 ? Action.CLIP : Action.STEP, cap, snapshotIfHealthy && healthy);
    }

    /**
     * @param norm a finite global norm
     * @return the factor the cap scales it by: {@code capTo / (norm + 1e-6)} when the norm is above {@code capTo},
     *     else 1
     */
    public double capCoef(double norm) {
        return norm > capTo ? GlobalNormClip.coefficient(norm, capTo) : 1.0;
    }

    /**
     * @param n a finite norm above {@code clipAbove} (after the cap)
     * @return the factor a clipped step's gradients are scaled by: {@code clipTo / (n + 1e-6)}, at most 1
     */
    public double clipCoef(double n) {
        return GlobalNormClip.coefficient(n, clipTo);
    }

    /**
     * The plan as numbers, in a fixed order, for feeding a graph: clipAbove, skipNormAbove,
     * skipLossAbove, skipLossNormAbove, spikeNormAbove, spikeLossAbove, skipNonFinite (1/0), skipAll
     * (1/0), snapshotIfHealthy (1/0), lrScale, clipTo, capTo.
     *
     * @return {@link #SIZE} doubles
     */
    public double[] toArray() {
        return new double[] {clipAbove, skipNormAbove, skipLossAbove, skipLossNormAbove, spikeNormAbove,
            spikeLossAbove, skipNonFinite ? 1 : 0, skipAll ? 1 : 0, snapshotIfHealthy ? 1 : 0, lrScale, clipTo, capTo};
    }

    /**
     * What a plan does with one step.
     *
     * @param action {@link Action#STEP}, {@link Action#CLIP} or {@link Action#SKIP}
     * @param clipCoef the factor applied to the gradients (1 for a plain step, 0 for a skip)
     * @param snapshot true when the pre-update state is snapshotted
     */
    public record Outcome(Action action, double clipCoef, boolean snapshot) {}
}
