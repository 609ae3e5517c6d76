package io.gradguard.core.rule;

/**
 * A run that was repaired but stopped learning: after the guard has cut the learning rate (a rollback, or
 * persistent clipping folded into the rate), the mean loss of each block of {@code steps} applied steps is
 * compared with the best block mean since the last cut. When {@value #PATIENCE} blocks in a row fail to
 * beat it by {@value #MIN_GAIN}, the rate that survived the repair is still too high to make progress (the
 * run sits on a plateau it bounces around), and the guard halves the learning-rate scale, with no rollback.
 *
 * <p>It is armed only by a repair, never by a healthy run: a run the guard has not had to cut is left alone,
 * whatever its loss does. It stops cutting at {@value #MIN_SCALE} of the user's rate.
 */
public final class StallAfterTrouble {

    /** Blocks in a row without progress before a cut. */
    public static final int PATIENCE = 2;
    /** A block's mean must be this much below the best block mean to count as progress. */
    public static final double MIN_GAIN = 0.01;
    /** Factor of each cut. */
    public static final double FACTOR = 0.5;
    /** No cut takes the scale below this. */
    public static final double MIN_SCALE = 0.01;

    private final int steps;
    private boolean armed;
    private double sum;
    private int n;
    private double best = Double.POSITIVE_INFINITY;
    private int stalled;
    private double beaten = Double.NaN;

    /**
     * @param steps applied steps per block; 0 turns the rule off
     */
    public StallAfterTrouble(int steps) {
        this.steps = steps;
    }

    /** @return true once a repair has armed the rule */
    public boolean armed() {
        return armed;
    }

    /** The guard cut the learning rate (a rollback or a fold): from now on, a plateau is watched for. */
    public void arm() {
        if (steps > 0) {
            armed = true;
            restart();
        }
    }

    /**
     * One applied step's loss.
     *
     * @param loss the batch loss (finite)
     * @param scale the learning-rate scale in force
     * @return true when the scale should be cut now
     */
    public boolean observe(double loss, double scale) {
        if (!armed || !Double.isFinite(loss)) {
            return false;
        }
        sum += loss;
        if (++n < steps) {
            return false;
        }
        double mean = sum / n;
        sum = 0;
        n = 0;
        if (mean < best * (1 - MIN_GAIN)) {
            best = mean;
            stalled = 0;
            return false;
        }
        best = Math.min(best, mean);
        if (++stalled < PATIENCE || scale * FACTOR < MIN_SCALE) {
            return false;
        }
        beaten = best;
        restart();
        return true;
    }

    /** @return the best block mean that the blocks before the last cut failed to beat (NaN before any cut) */
    public double best() {
        return beaten;
    }

    private void restart() {
        sum = 0;
        n = 0;
        best = Double.POSITIVE_INFINITY;
        stalled = 0;
    }
}
