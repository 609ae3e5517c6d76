package io.gradguard.core.detect;

/**
 * Judges whether a positive signal (a gradient norm, a loss) is spiking against its own recent history.
 *
 * <p>The statistics live in log space, because spikes are multiplicative: a norm that jumps from 1 to
 * 10 is as alarming as one from 100 to 1000. During the first {@code warmup} values the exact running
 * mean is kept; after that an exponential moving average with decay {@code alpha}, as in ZClip (Kumar et
 * al. 2025). The spread is estimated from consecutive differences, {@code std^2 = E[(x_t - x_{t-1})^2] / 2},
 * which equals the variance for batch-to-batch noise but, unlike the plain variance, is not inflated by a
 * trend: a norm that grows steadily by a few percent a step keeps a narrow band around a lagging mean and
 * is caught, where a z-score on the plain variance would learn the growth as noise. A value is a spike
 * when it exceeds
 *
 * <pre>  threshold = exp(mean) * max(minRatio, exp(z * std))</pre>
 *
 * <p>i.e. it is both {@code z} standard deviations above the mean and at least {@code minRatio} times
 * the typical value. The ratio floor keeps a very steady signal (tiny std) from turning harmless 20%
 * wiggles into alarms; the z term lets a noisy signal have a wider band. The caller decides what to feed
 * back: a healthy value with {@link #update(double)}; after a clip, the clipped value with
 * {@link #updateClipped(double)}, which moves the mean (so that genuine, slow growth is learnt) but not
 * the variance (so that a run of spikes cannot widen its own band until nothing counts as a spike any
 * more); nothing after a skipped or non-finite step.
 */
public final class SpikeDetector {

    private final double z;
    private final double minRatio;
    private final double alpha;
    private final int warmup;

    private long count;
    private double mean;
    private double last;
    private double diffSq;
    private double variance;

    /**
     * Creates a detector.
     *
     * @param z z threshold in log-space standard deviations, > 0
     * @param minRatio minimum ratio to the typical value, > 1
     * @param alpha EMA decay after warm-up, in (0, 1)
     * @param warmup values seen before any judgement, >= 2
     */
    public SpikeDetector(double z, double minRatio, double alpha, int warmup) {
        if (!(z > 0) || !(minRatio > 1) || !(alpha > 0 && alpha < 1) || warmup < 2) {
            throw new IllegalArgumentException("SpikeDetector(z=" + z + ", minRatio=" + minRatio
                    + ", alpha=" + alpha + ", warmup=" + warmup + "): need z > 0, minRatio > 1,"
                    + " 0 < alpha < 1, warmup >= 2");
        }
        this.z = z;
        this.minRatio = minRatio;
        this.alpha = alpha;
        this.warmup = warmup;
    }

    private SpikeDetector(SpikeDetector o) {
        this(o.z, o.minRatio, o.alpha, o.warmup);
        this.count = o.count;
        this.mean = o.mean;
        this.last = o.last;
        this.diffSq = o.diffSq;
        this.variance = o.variance;
    }

    /** @return an independent copy of this detector's state (saved with a snapshot, restored at rollback) */
    public SpikeDetector copy() {
        return new SpikeDetector(this);
    }

    /** @return true once the warm-up is over and values are judged */
    public boolean ready() {
        return count >= warmup;
    }

    /** @return how many values have been fed */
    public long count() {
        return count;
    }

    /** @return the typical value, exp(mean of the log values); NaN before any value */
    public double typical() {
        return count == 0 ? Double.NaN : Math.exp(mean);
    }

    /** @return the standard deviation of the log values */
    public double logStd() {
        return Math.sqrt(Math.max(variance, 0));
    }

    /** @return the spike threshold; +infinity while warming up */
    public double threshold() {
        return threshold(minRatio);
    }

    /**
     * The threshold with another ratio floor: {@code exp(mean) * max(ratio, exp(z * std))}.
     *
     * @param ratio the minimum ratio to the typical value, > 1
     * @return the threshold; +infinity while warming up
     */
    public double threshold(double ratio) {
        if (!ready()) {
            return Double.POSITIVE_INFINITY;
        }
        return Math.exp(mean + Math.max(Math.log(ratio), z * logStd()));
    }

    /**
     * @param value a value
     * @return true when the detector is warmed up and the value is above the threshold
     */
    public boolean isSpike(double value) {
        return ready() && value > threshold();
    }

    /**
     * @param value a value
     * @return value / typical value, or NaN before any value was fed
     */
    public double ratio(double value) {
        return value / typical();
    }

    /**
     * Feeds a clipped value: moves the mean only. Ignored during warm-up and for non-positive or
     * non-finite values.
     *
     * @param clippedValue the value that was applied after clipping
     */
    public void updateClipped(double clippedValue) {
        if (!ready() || !(clippedValue > 0) || Double.isInfinite(clippedValue)) {
            return;
        }
        count++;
        mean += (1 - alpha) * (Math.log(clippedValue) - mean);
    }

    /**
     * Feeds one value into the statistics. Non-positive and non-finite values are ignored.
     *
     * @param value the value to learn from
     */
    public void update(double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            return;
        }
        double x = Math.log(value);
        count++;
        double d2 = count > 1 ? (x - last) * (x - last) / 2 : 0;
        last = x;
        if (count <= warmup) {
            mean += (x - mean) / count;
            diffSq += d2;
            variance = count > 1 ? diffSq / (count - 1) : 0;
        } else {
            mean += (1 - alpha) * (x - mean);
            variance = alpha * variance + (1 - alpha) * d2;
        }
    }
}
