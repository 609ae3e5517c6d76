package io.gradguard.core.diagnose;

/**
 * Counts positive values in log-spaced bins (50 per decade, 1e-12 to 1e12): quantiles within about 5%
 * in fixed memory, whatever the number of values.
 */
final class LogHistogram {

    private static final int PER_DECADE = 50;
    private static final int LOW_DECADE = -12;
    private static final int DECADES = 24;
    private final long[] bins = new long[PER_DECADE * DECADES + 2];
    private long count;
    private double max = Double.NaN;

    void add(double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            return;
        }
        count++;
        max = Double.isNaN(max) ? v : Math.max(max, v);
        bins[bin(v)]++;
    }

    private static int bin(double v) {
        if (v <= 0) {
            return 0;
        }
        double pos = (Math.log10(v) - LOW_DECADE) * PER_DECADE;
        if (pos < 0) {
            return 0;
        }
        return (int) Math.min(PER_DECADE * DECADES + 1, 1 + Math.floor(pos));
    }

    long count() {
        return count;
    }

    double max() {
        return max;
    }

    /**
     * @param q a quantile in [0, 1]
     * @return the geometric centre of the bin holding it (NaN when empty)
     */
    double quantile(double q) {
        if (count == 0) {
            return Double.NaN;
        }
        long target = (long) Math.ceil(q * count);
        long seen = 0;
        for (int i = 0; i < bins.length; i++) {
            seen += bins[i];
            if (seen >= Math.max(1, target)) {
                if (i == 0) {
                    return 0;
                }
                return Math.min(max, Math.pow(10, LOW_DECADE + (i - 0.5) / PER_DECADE));
            }
        }
        return max;
    }
}
