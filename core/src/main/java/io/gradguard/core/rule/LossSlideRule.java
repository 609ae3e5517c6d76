package io.gradguard.core.rule;

import io.gradguard.core.Action;
import io.gradguard.core.event.EventKind;
import java.util.Locale;

/**
 * The loss slid back and stayed there: its smoothed value (EMA 0.9 over applied steps) has been above
 * {@code ratio} times the lowest smoothed value of the last {@value #WINDOW} applied steps for
 * {@value #STEPS} applied steps in a row. A run at the edge of stability trains at first, then bounces about a
 * level well above the one it had reached, for good: too slow a climb for the regression rule's bar, no spike,
 * and a clip would only hide it.
 *
 * <p>Two guards against the batch noise of a healthy run. The reference is the lowest smoothed loss of a
 * window, not of the whole run: over a long plateau, the run-long minimum of a noisy average keeps sinking,
 * and any ordinary stretch would look like a climb from it. And the bar rises with the noise: it is at least
 * {@value #NOISE_Z} standard deviations of the smoothed loss (estimated from the batch losses' relative
 * spread) above the reference, since a window's minimum alone sits about three of them below the typical
 * loss. As the regression rule's, the reference is floored at
 * {@link LossRegressionRule#FLOOR} of the run's first loss; the rule counts from the start of the run and again
 * from each rollback, after {@link LossRegressionRule#WARMUP} applied steps.
 */
public final class LossSlideRule implements TroubleRule {

    /** Applied steps in a row the smoothed loss must stay above the bar. */
    public static final int STEPS = 50;
    /** Applied steps over which the lowest smoothed loss is the reference. */
    public static final int WINDOW = 500;
    /** The bar is at least this many standard deviations of the smoothed loss above the reference. */
    public static final double NOISE_Z = 6;
    /** Decay of the average of the batch losses' squared relative deviation from the smoothed loss. */
    static final double NOISE_BETA = 0.99;
    /** Decay of the smoothed loss ({@link SmoothedLoss}'s), for the standard deviation of its noise. */
    private static final double BETA = 0.9;

    private final double ratio;
    private final SmoothedLoss loss = new SmoothedLoss();
    private double spread = Double.NaN;
    private int seen;
    private int above;
    // the window's smoothed losses that can still be its minimum, as a monotone queue (increasing values)
    private final long[] at = new long[WINDOW + 1];
    private final double[] value = new double[WINDOW + 1];
    private int head;
    private int size;

    /**
     * @param ratio the bar, as a multiple of the window's lowest smoothed loss; 0 turns the rule off
     */
    public LossSlideRule(double ratio) {
        this.ratio = ratio;
    }

    @Override
    public String name() {
        return "loss_slide";
    }

    @Override
    public Trouble check(StepView v) {
        if (ratio <= 0 || !v.lossKnown() || !v.finite() || v.action() == Action.SKIP) {
            return null;
        }
        double before = loss.value();
        loss.add(v.loss());
        if (!(loss.first() > 0)) {
            return null;
        }
        if (before > 0) {
            double d = (v.loss() - before) / before;
            spread = Double.isNaN(spread) ? d * d : NOISE_BETA * spread + (1 - NOISE_BETA) * d * d;
        }
        double ema = loss.value();
        long t = seen++;
        if (seen <= LossRegressionRule.WARMUP) {
            return null;
        }
        double reference = Math.max(size == 0 ? Double.POSITIVE_INFINITY : value[head], LossRegressionRule.FLOOR * loss.first());
        double noise = Double.isNaN(spread) ? 0 : Math.sqrt(spread * (1 - BETA) / (1 + BETA));
        double bar = Math.max(ratio, 1 + NOISE_Z * noise);
        above = ema > bar * reference ? above + 1 : 0;
        if (above >= STEPS) {
            String why = String.format(Locale.ROOT, "the smoothed loss %.4g has stayed above %.3gx the lowest it reached in"
                    + " the last %d steps (%.4g) for %d steps", ema, bar, WINDOW, reference, above);
            rolledBack();
            return new Trouble(name(), EventKind.RISE, why, false);
        }
        push(t, ema);
        return null;
    }

    private void push(long t, double x) {
        while (size > 0 && value[(head + size - 1) % at.length] >= x) {
            size--;
        }
        int tail = (head + size) % at.length;
        at[tail] = t;
        value[tail] = x;
        size++;
        while (at[head] <= t - WINDOW) {
            head = (head + 1) % at.length;
            size--;
        }
    }

    @Override
    public void rolledBack() {
        loss.restart();
        spread = Double.NaN;
        seen = 0;
        above = 0;
        head = 0;
        size = 0;
    }
}
