package io.gradguard.djl.internal;

import ai.djl.training.optimizer.Optimizer;
import io.gradguard.core.internal.Fields;
import java.lang.reflect.Field;
import java.util.Set;

/**
 * Clips without a pass over the gradients: DJL's {@code Sgd}, {@code Adam} and {@code AdamW} hand their
 * {@code rescaleGrad} factor to the engine's fused update ({@code sgdUpdate} / {@code adamUpdate}), which
 * copies and rescales the gradient anyway. Multiplying that factor by the clip coefficient for one
 * {@code update} call therefore clips for free; the factor is restored right after the call. Other
 * optimizers (a subclass, a user's own) may ignore the factor, so they get the in-place scale instead.
 */
final class RescaleFold {

    /** DJL optimizers whose {@code update} passes {@code rescaleGrad} to the engine's fused update. */
    private static final Set<String> FUSED = Set.of(
            "ai.djl.training.optimizer.Sgd", "ai.djl.training.optimizer.Adam", "ai.djl.training.optimizer.AdamW");

    private final Optimizer optimizer;
    private final Field rescale;

    private RescaleFold(Optimizer optimizer, Field rescale) {
        this.optimizer = optimizer;
        this.rescale = rescale;
    }

    /**
     * @param optimizer the trainer's optimizer, or null
     * @return a fold for it, or null when its update is not known to honour {@code rescaleGrad}
     */
    static RescaleFold of(Optimizer optimizer) {
        if (optimizer == null || !FUSED.contains(optimizer.getClass().getName())) {
            return null;
        }
        Field f = Fields.find(Optimizer.class, "rescaleGrad");
        if (f == null) {
            return null;
        }
        try {
            f.getFloat(optimizer);
            return new RescaleFold(optimizer, f);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Runs one update with the gradient factor multiplied by {@code scale}.
     *
     * @param scale the clip coefficient, in (0, 1)
     * @param update the optimizer update to run
     */
    void run(double scale, Runnable update) {
        float own;
        try {
            own = rescale.getFloat(optimizer);
            rescale.setFloat(optimizer, (float) (own * scale));
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        try {
            update.run();
        } finally {
            try {
                rescale.setFloat(optimizer, own);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
