package io.gradguard.core.rule;

import io.gradguard.core.Action;
import io.gradguard.core.event.EventKind;
import java.util.Locale;

/**
 * A network that died: the gradients of (nearly) all its weights have fallen to zero and stay there, while a
 * few parameters near the output still learn. That is what a too-high learning rate leaves behind when it kills
 * every ReLU unit, or saturates every activation, in the first few updates: the output no longer depends on the
 * input, the output bias fits the mean, and the loss sits at the constant predictor's level for the rest of the
 * run. It is finite and quiet, so nothing else sees it; the gradient norm of the surviving parameters can even
 * look normal.
 *
 * <p>A parameter counts as dead on a step when its gradient norm is at most {@value #DEAD} of the largest it had
 * in the first {@value #EARLY} applied steps of the run (kept across rollbacks, so that a restored network that is
 * already dead is still seen as dead). When the dead
 * parameters hold at least {@code share} of all the weights (by element count) on {@value #WINDOW} applied steps
 * in a row, while the smoothed loss is still above {@value #SOLVED} of the first loss (a run that solved its task
 * has vanishing gradients too), the rule reports a collapse: the run goes back to the last snapshot before it
 * (the guard takes none while the rule suspects it) with a lower learning rate.
 */
public final class DeadGradientsRule implements TroubleRule {

    /** Applied steps at the start of the run whose largest gradient norm is each parameter's reference. */
    public static final int EARLY = 10;
    /** Applied steps in a row the dead share must last. */
    public static final int WINDOW = 20;
    /** A gradient norm at most this fraction of its early level is dead. */
    public static final double DEAD = 1e-4;
    /** A gradient norm at most this fraction of its early level is dying: no snapshot is taken of a network this far gone. */
    public static final double DYING = 1e-2;
    /** The smoothed loss must be above this fraction of the first loss (a solved task has vanishing gradients). */
    public static final double SOLVED = 0.1;

    private final double share;
    private long[] sizes;
    private double[] early;
    private int seen;
    private int inARow;
    private double dyingShare;
    private final SmoothedLoss loss = new SmoothedLoss();

    /**
     * @param share the share of the weights (by element count) whose gradients must be dead; 0 turns the rule off
     */
    public DeadGradientsRule(double share) {
        this.share = share;
    }

    @Override
    public String name() {
        return "dead_gradients";
    }

    /**
     * The parameters' element counts, to weigh each parameter's share; null weighs them equally.
     *
     * @param sizes element count per parameter, in the order of the step's per-parameter norms, or null
     */
    public void sizes(long[] sizes) {
        this.sizes = sizes == null ? null : sizes.clone();
        early = null;
        seen = 0;
        restart();
    }

    /**
     * @return true while the last applied step looked dead or dying (gradients at most {@value #DYING} of their
     *     early level in that share of the weights): the guard takes no snapshot then, so that a rollback finds a
     *     network that can still learn
     */
    public boolean suspected() {
        return share > 0 && seen > EARLY && dyingShare >= share;
    }

    @Override
    public Trouble check(StepView v) {
        double[] g = v.paramNorms();
        if (share <= 0 || g == null || !v.finite() || v.action() == Action.SKIP) {
            return null;
        }
        if (early == null || early.length != g.length) {
            early = new double[g.length];
            seen = 0;
        }
        if (v.lossKnown()) {
            loss.add(v.loss());
        }
        seen++;
        if (seen <= EARLY) {
            for (int i = 0; i < g.length; i++) {
                early[i] = Math.max(early[i], g[i]);
            }
            return null;
        }
        boolean bySize = sizes != null && sizes.length == g.length;
        double dead = 0;
        double dying = 0;
        double all = 0;
        for (int i = 0; i < g.length; i++) {
            if (!(early[i] > 0)) {
                continue;
            }
            double w = bySize ? sizes[i] : 1;
            all += w;
            if (g[i] <= DEAD * early[i]) {
                dead += w;
            }
            if (g[i] <= DYING * early[i]) {
                dying += w;
            }
        }
        double deadShare = all > 0 ? dead / all : 0;
        dyingShare = all > 0 ? dying / all : 0;
        boolean solved = loss.first() > 0 && loss.value() < SOLVED * loss.first();
        inARow = deadShare >= share && !solved ? inARow + 1 : 0;
        if (inARow >= WINDOW) {
            String why = String.format(Locale.ROOT, "the gradients of %.0f%% of the weights have been zero for %d steps"
                    + " (the units feeding them died) and the loss stays at %.4g: the run collapsed to a prediction"
                    + " that no longer depends on the input", 100 * deadShare, WINDOW, loss.value());
            inARow = 0;
            return new Trouble(name(), EventKind.COLLAPSE, why, false);
        }
        return null;
    }

    private void restart() {
        inARow = 0;
        dyingShare = 0;
        loss.restart();
    }

    @Override
    public void rolledBack() {
        // the early levels stay: a restored network that is already dead must still be seen as dead
        restart();
    }
}
