package io.gradguard.core.clip;

import io.gradguard.core.detect.SpikeDetector;

/**
 * The threshold learnt from the norm history: the spike threshold of a {@link SpikeDetector}, i.e.
 * {@code exp(mean) * max(ratio, exp(z * std))} of the log norms. It clips only what the detector calls
 * a spike, so a healthy run is never touched, and it follows slow, genuine changes of the norm because
 * the detector learns from the applied (clipped) norm.
 */
public final class AdaptiveClipThreshold implements ClipThreshold {

    private final SpikeDetector detector;

    /**
     * @param detector the norm spike detector whose threshold to use (shared, not owned)
     */
    public AdaptiveClipThreshold(SpikeDetector detector) {
        this.detector = detector;
    }

    @Override
    public double threshold() {
        return detector.threshold();
    }

    @Override
    public void observe(double appliedNorm) {
        // the guard feeds the shared detector itself
    }

    @Override
    public String toString() {
        return "adaptive";
    }
}
