package io.gradguard.core.rule;

import io.gradguard.core.Action;
import io.gradguard.core.event.EventKind;
import java.util.Locale;

/**
 * The loss slid back: its smoothed value (EMA 0.9 over applied steps) rose to {@code ratio} times the best
 * smoothed value the run had reached. A run whose learning rate is too high often trains well at first and
 * then climbs back up, finite and without a single spike the spike detectors would see, because their
 * statistics climb with it. The best value is floored at {@value #FLOOR} of the starting loss, so that
 * batch noise around a loss near zero is not taken for a climb.
 *
 * <p>The rule counts from the start of the run and again from each rollback (the restored state starts a
 * new episode), after {@value #WARMUP} applied steps.
 */
public final class LossRegressionRule implements TroubleRule {

    /** Smoothing of the loss. */
    public static final double BETA = 0.9;
    /** Applied steps before the smoothed loss counts. */
    public static final int WARMUP = 10;
    /** The best value never counts below this fraction of the run's first loss. */
    public static final double FLOOR = 0.05;

    private final double ratio;
    private double first = Double.NaN;
    private double ema = Double.NaN;
    private double best = Double.POSITIVE_INFINITY;
    private int seen;

    /**
     * @param ratio how many times the best smoothed loss is trouble; 0 turns the rule off
     */
    public LossRegressionRule(double ratio) {
        this.ratio = ratio;
    }

    @Override
    public String name() {
        return "loss_regression";
    }

    @Override
    public Trouble check(StepView v) {
        if (ratio <= 0 || !v.lossKnown() || !v.finite() || v.action() == Action.SKIP) {
            return null;
        }
        if (Double.isNaN(first)) {
            first = v.loss();
        }
        if (!(first > 0)) {
            return null;
        }
        ema = Double.isNaN(ema) ? v.loss() : BETA * ema + (1 - BETA) * v.loss();
        if (++seen <= WARMUP) {
            return null;
        }
        double reference = Math.max(best, FLOOR * first);
        if (ema > ratio * reference) {
            String why = String.format(Locale.ROOT, "the smoothed loss %.4g climbed to %.3gx the best it had reached (%.4g)",
                    ema, ema / reference, reference);
            rolledBack();
            return new Trouble(name(), EventKind.RISE, why, false);
        }
        best = Math.min(best, ema);
        return null;
    }

    @Override
    public void rolledBack() {
        ema = Double.NaN;
        best = Double.POSITIVE_INFINITY;
        seen = 0;
    }
}
