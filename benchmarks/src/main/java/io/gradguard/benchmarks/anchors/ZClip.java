package io.gradguard.benchmarks.anchors;

/**
 * ZClip (Kumar et al. 2025, "ZClip: Adaptive Spike Mitigation
 * for LLM Pre-Training"): an EMA of the global norm's mean and variance (alpha 0.97) after a warm-up of
 * 25 steps whose mean and variance initialize it (no clipping during the warm-up); a norm whose z-score
 * exceeds z_thres = 2.5 is clipped to {@code mu + (z_thres^2 / z) * sigma} (the paper's reciprocal
 * mode), and the EMA is then updated with the clipped value: {@code mu = a*mu + (1-a)*g;
 * var = a*var + (1-a)*(g - mu)^2} with the new mean, as the reference implementation does.
 */
public final class ZClip implements NormRule {

    private final double alpha;
    private final double zThreshold;
    private final int warmup;
    private final double[] buffer;
    private int seen;
    private double mean;
    private double var;
    private boolean ready;

    /** The paper's defaults: alpha 0.97, z 2.5, 25 warm-up steps. */
    public ZClip() {
        this(0.97, 2.5, 25);
    }

    /**
     * @param alpha EMA decay
     * @param zThreshold z-score threshold
     * @param warmup warm-up steps
     */
    public ZClip(double alpha, double zThreshold, int warmup) {
        this.alpha = alpha;
        this.zThreshold = zThreshold;
        this.warmup = warmup;
        this.buffer = new double[warmup];
    }

    @Override
    public double maxNorm(double norm) {
        if (!ready) {
            buffer[seen++] = norm;
            if (seen == warmup) {
                double m = 0;
                for (double b : buffer) {
                    m += b;
                }
                m /= warmup;
                double v = 0;
                for (double b : buffer) {
                    v += (b - m) * (b - m);
                }
                mean = m;
                var = v / warmup;
                ready = true;
            }
            return Double.POSITIVE_INFINITY;
        }
        double std = Math.sqrt(var);
        double z = (norm - mean) / Math.max(std, 1e-12);
        double clipped = norm;
        double max = Double.POSITIVE_INFINITY;
        if (z > zThreshold) {
            clipped = mean + (zThreshold * zThreshold / z) * std;
            max = clipped;
        }
        mean = alpha * mean + (1 - alpha) * clipped;
        var = alpha * var + (1 - alpha) * (clipped - mean) * (clipped - mean);
        return max;
    }

    @Override
    public String key() {
        return "zclip";
    }
}
