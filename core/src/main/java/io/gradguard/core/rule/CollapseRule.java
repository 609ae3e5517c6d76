package io.gradguard.core.rule;

import io.gradguard.core.Action;
import io.gradguard.core.event.EventKind;
import java.util.Arrays;
import java.util.Locale;

/**
 * A run that blew up and then died: after a sign of trouble (a non-finite step, a skipped outlier, a clipped
 * spike, or a loss above the loss-rise threshold, even for one step), the gradient norm has fallen to
 * {@code 1/drop} of its level in the first steps and stayed there for {@value #WINDOW} applied steps while the
 * smoothed loss stopped improving, at no less than {@value #TROUBLE_LOSS} of the first loss. That is the signature of a collapse to a constant prediction (dead units,
 * saturated activations): finite, quiet and useless, so training on would only waste the budget. The rule
 * asks for a rollback to the last snapshot before it (the guard takes no snapshot while the rule suspects a
 * collapse) with a lower learning rate.
 *
 * <p>Without a prior sign of trouble the bar is {@code quiet} (much higher than {@code drop}) and the loss must still
 * be above {@value #SILENT_LOSS} of the first loss: a norm that shrinks while the loss plateaus is also what a
 * healthy run that converged looks like. Some runs die in their very first update with nothing to see before (Adam
 * at many times its rate); this catches the worst of them.
 */
public final class CollapseRule implements TroubleRule {

    /** Applied steps the low norm and the stalled loss must last. */
    public static final int WINDOW = 20;
    /** Steps at the start of the run (or after a rollback) whose largest norm is the reference level. */
    public static final int EARLY = 10;
    /** The smoothed loss must improve by at least this much over the window, or the run has stalled. */
    public static final double STALL = 0.02;
    /** Without a prior sign of trouble, the loss must still be above this fraction of the first loss (a run near zero loss has tiny gradients too). */
    public static final double SILENT_LOSS = 0.1;
    /** After trouble, a collapsed loss sits at least this close to the first loss (near the untrained level). */
    public static final double TROUBLE_LOSS = 0.5;

    private final double drop;
    private final double quiet;
    private final LossRiseRule rise;
    private final double[] norms = new double[WINDOW];
    private final double[] losses = new double[WINDOW + 1];
    private int seen;
    private double early;
    private final SmoothedLoss loss = new SmoothedLoss();
    private boolean trouble;

    /**
     * @param drop how far the norm must fall below its early level after a sign of trouble; 0 turns the rule off
     * @param quiet how far it must fall without one; 0 turns that half off
     * @param rise the loss-rise rule whose threshold counts as a sign of trouble
     */
    public CollapseRule(double drop, double quiet, LossRiseRule rise) {
        this.drop = drop;
        this.quiet = quiet;
        this.rise = rise;
    }

    @Override
    public String name() {
        return "collapse";
    }

    /**
     * @return true while the run looks collapsed (the guard takes no snapshot then): the norm has fallen below the
     *     bar and the smoothed loss still sits where a collapsed run's does, near the untrained level. A norm that
     *     fell from a large first step while the loss keeps dropping (a deep net settling) is not suspected, so the
     *     guard keeps taking snapshots of its progress.
     */
    public boolean suspected() {
        return drop > 0 && seen >= EARLY + 1 && (trouble || quiet > 0) && median() <= early / (trouble ? drop : quiet)
                && !(loss.value() < (trouble ? TROUBLE_LOSS : SILENT_LOSS) * loss.first());
    }

    @Override
    public Trouble check(StepView v) {
        if (drop <= 0) {
            return null;
        }
        if (!v.finite() || v.outlier() || v.clippedSpike()
                || v.lossKnown() && v.loss() > rise.threshold()) {
            trouble = true;
        }
        if (!v.finite() || v.action() == Action.SKIP) {
            return null;
        }
        if (seen < EARLY) {
            early = Math.max(early, v.norm());
        }
        norms[seen % WINDOW] = v.norm();
        if (v.lossKnown()) {
            loss.add(v.loss());
        }
        double ema = loss.value();
        double firstLoss = loss.first();
        losses[seen % (WINDOW + 1)] = ema;
        seen++;
        if (seen < EARLY + WINDOW) {
            return null;
        }
        double med = median();
        double before = losses[seen % (WINDOW + 1)];
        boolean stalled = Double.isNaN(ema) || !(ema < before * (1 - STALL));
        boolean collapsed = trouble ? med <= early / drop && ema >= TROUBLE_LOSS * firstLoss
                : quiet > 0 && med <= early / quiet && ema >= SILENT_LOSS * firstLoss;
        if (collapsed && stalled) {
            String why = String.format(Locale.ROOT, "the gradient norm fell to %.3g (%.0fx below its %.3g in the first"
                    + " steps) and the loss stopped improving (%.4g) for %d steps: the run collapsed", med, early / med,
                    early, ema, WINDOW);
            reset();
            return new Trouble(name(), EventKind.COLLAPSE, why, false);
        }
        return null;
    }

    private double median() {
        int n = Math.min(seen, WINDOW);
        double[] c = Arrays.copyOf(norms, n);
        Arrays.sort(c);
        return n == 0 ? Double.NaN : n % 2 == 1 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    }

    private void reset() {
        seen = 0;
        early = 0;
        loss.restart();
        Arrays.fill(norms, 0);
        Arrays.fill(losses, 0);
    }

    @Override
    public void rolledBack() {
        // the restored state starts a new episode; the trouble that led here is remembered
        reset();
    }
}
