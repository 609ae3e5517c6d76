package io.gradguard.core.rule;

/**
 * The loss as the collapse and slide rules read it: the run's first loss, kept across rollbacks, and an exponential moving
 * average (decay 0.9, about a 10-step memory) that starts again with each episode. Fed the applied, finite steps
 * whose loss is known.
 */
final class SmoothedLoss {

    private double first = Double.NaN;
    private double ema = Double.NaN;

    /** @param loss one applied step's loss */
    void add(double loss) {
        ema = Double.isNaN(ema) ? loss : 0.9 * ema + 0.1 * loss;
        if (Double.isNaN(first)) {
            first = loss;
        }
    }

    /** @return the run's first loss, NaN before it */
    double first() {
        return first;
    }

    /** @return the smoothed loss of this episode, NaN before its first loss */
    double value() {
        return ema;
    }

    /** A new episode: the average starts again; the first loss stays. */
    void restart() {
        ema = Double.NaN;
    }
}
