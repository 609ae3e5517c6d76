package io.gradguard.core.rule;

import io.gradguard.core.event.EventKind;
import java.util.Locale;

/**
 * The loss rose well above where the run started: at {@code ratio} times the loss of the run's first step,
 * on {@value #STEPS} applied steps in a row, the learning rate (or something else) is driving training
 * backwards. Scale-free and ready from step 1: it needs no statistics, so it sees the explosions of the
 * first steps that the spike detectors, still learning what is typical, cannot. A batch skipped as an
 * outlier does not count (one bad batch is the data's doing, and the outlier rung handles it), nor does a
 * single high loss. A loss that is not positive at the start turns the rule off.
 */
public final class LossRiseRule implements TroubleRule {

    /** Applied steps in a row above the threshold that make trouble. */
    public static final int STEPS = 2;

    private final double ratio;
    private double start = Double.NaN;
    private int above;

    /**
     * @param ratio how many times the starting loss is trouble; 0 turns the rule off
     */
    public LossRiseRule(double ratio) {
        this.ratio = ratio;
    }

    @Override
    public String name() {
        return "loss_rise";
    }

    /** @return the loss above which a step is trouble; +infinity before the first loss or when off */
    public double threshold() {
        return ratio > 0 && start > 0 ? ratio * start : Double.POSITIVE_INFINITY;
    }

    /** @return the loss of the run's first step, NaN before it */
    public double start() {
        return start;
    }

    @Override
    public Trouble check(StepView v) {
        if (!v.lossKnown() || !v.finite() || v.action() == io.gradguard.core.Action.SKIP) {
            return null;
        }
        if (Double.isNaN(start)) {
            start = v.loss();
            return null;
        }
        above = v.loss() > threshold() ? above + 1 : 0;
        if (above >= STEPS) {
            return new Trouble(name(), EventKind.RISE, String.format(Locale.ROOT,
                    "the loss %.4g is %.3gx the loss the run started at (%.4g)", v.loss(), v.loss() / start, start), false);
        }
        return null;
    }

    @Override
    public void rolledBack() {
        above = 0;
    }
}
