package io.gradguard.core.detect;

/**
 * Keeps the typical gradient norm of every parameter (EMA of the log norm) so that, when the global
 * norm spikes, the guard can name the parameter whose gradient grew the most: where the explosion
 * started.
 */
public final class ParameterNormTracker {

    private final double alpha;
    private double[] logMean;
    private long count;

    /**
     * @param alpha EMA decay, in (0, 1)
     */
    public ParameterNormTracker(double alpha) {
        this.alpha = alpha;
    }

    /**
     * Learns from a healthy step's per-parameter norms.
     *
     * @param norms per-parameter gradient norms (non-finite or non-positive entries are ignored)
     */
    public void update(double[] norms) {
        if (norms == null) {
            return;
        }
        if (logMean == null || logMean.length != norms.length) {
            logMean = new double[norms.length];
            java.util.Arrays.fill(logMean, Double.NaN);
        }
        count++;
        double a = count <= 10 ? 1.0 - 1.0 / count : alpha;
        for (int i = 0; i < norms.length; i++) {
            double n = norms[i];
            if (n > 0 && Double.isFinite(n)) {
                double x = Math.log(n);
                logMean[i] = Double.isNaN(logMean[i]) ? x : a * logMean[i] + (1 - a) * x;
            }
        }
    }

    /**
     * The parameter whose norm is furthest above its typical value.
     *
     * @param norms this step's per-parameter norms
     * @return its index, or -1 when nothing is known yet
     */
    public int mostGrown(double[] norms) {
        if (norms == null || logMean == null || logMean.length != norms.length) {
            return -1;
        }
        int best = -1;
        double bestRatio = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < norms.length; i++) {
            double n = norms[i];
            if (!Double.isNaN(logMean[i]) && n > 0) {
                double r = Double.isInfinite(n) ? Double.MAX_VALUE : Math.log(n) - logMean[i];
                if (r > bestRatio) {
                    bestRatio = r;
                    best = i;
                }
            }
        }
        return best;
    }

    /**
     * @param index a parameter index
     * @return its typical norm, NaN if unknown
     */
    public double typical(int index) {
        return logMean == null || index < 0 || index >= logMean.length ? Double.NaN : Math.exp(logMean[index]);
    }
}
