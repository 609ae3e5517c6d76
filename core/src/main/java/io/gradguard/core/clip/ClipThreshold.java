package io.gradguard.core.clip;

/** Where the global gradient norm is clipped. */
public interface ClipThreshold {

    /** @return the current threshold; +infinity when nothing should be clipped yet */
    double threshold();

    /**
     * Learns from the norm that was actually applied this step (after clipping).
     *
     * @param appliedNorm the applied global norm
     */
    void observe(double appliedNorm);
}
