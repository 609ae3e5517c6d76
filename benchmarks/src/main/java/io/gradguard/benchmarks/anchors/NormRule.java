package io.gradguard.benchmarks.anchors;

/**
 * A global-norm clipping rule: given this step's global gradient norm, the {@code max_norm} handed to
 * PyTorch's {@code clip_grad_norm_} (applied by {@link GlobalNormClipper} with PyTorch's semantics).
 */
public interface NormRule {

    /**
     * @param norm this step's global gradient norm (may be NaN or infinite)
     * @return the max norm to clip to this step, or {@code +Infinity} for no clipping
     */
    double maxNorm(double norm);

    /** @return a short name for tables */
    String key();

    /** A fixed threshold: HF Trainer {@code max_grad_norm=1.0}, Megatron {@code --clip-grad 1.0}, DeepSpeed {@code gradient_clipping}. */
    final class Fixed implements NormRule {
        private final double maxNorm;

        /** @param maxNorm the threshold */
        public Fixed(double maxNorm) {
            this.maxNorm = maxNorm;
        }

        @Override
        public double maxNorm(double norm) {
            return maxNorm;
        }

        @Override
        public String key() {
            return "fixed-" + maxNorm;
        }
    }
}
