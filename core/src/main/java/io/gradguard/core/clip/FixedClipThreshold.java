package io.gradguard.core.clip;

/** A constant threshold, like {@code max_grad_norm=1.0} elsewhere. */
public final class FixedClipThreshold implements ClipThreshold {

    private final double maxNorm;

    /**
     * @param maxNorm the threshold, positive and finite
     */
    public FixedClipThreshold(double maxNorm) {
        if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
            throw new IllegalArgumentException("maxNorm must be positive and finite, but was " + maxNorm);
        }
        this.maxNorm = maxNorm;
    }

    @Override
    public double threshold() {
        return maxNorm;
    }

    @Override
    public String toString() {
        return "fixed(" + maxNorm + ")";
    }
}
