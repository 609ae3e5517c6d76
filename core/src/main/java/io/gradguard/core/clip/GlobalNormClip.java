package io.gradguard.core.clip;

/**
 * Global-norm clipping with the semantics of PyTorch's {@code torch.nn.utils.clip_grad_norm_}: all
 * gradients are scaled by one coefficient {@code maxNorm / (norm + 1e-6)}, clamped to at most 1, so the
 * direction of the update is kept and only its length is bounded.
 */
public final class GlobalNormClip {

    /** The epsilon PyTorch adds to the norm. */
    public static final double EPSILON = 1e-6;

    private GlobalNormClip() {}

    /**
     * The clip coefficient.
     *
     * @param norm the global gradient norm, finite and >= 0
     * @param maxNorm the threshold, > 0
     * @return the factor to scale every gradient by, in (0, 1]
     */
    public static double coefficient(double norm, double maxNorm) {
        double coef = maxNorm / (norm + EPSILON);
        return Math.min(coef, 1.0);
    }
}
