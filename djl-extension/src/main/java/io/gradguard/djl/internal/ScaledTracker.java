package io.gradguard.djl.internal;

import ai.djl.training.tracker.ParameterTracker;
import java.util.function.DoubleSupplier;

/**
 * Multiplies whatever learning-rate {@link ParameterTracker} an optimizer uses (fixed, warm-up, cosine,
 * factor...) by the guard's learning-rate scale, read live at every update.
 */
public final class ScaledTracker implements ParameterTracker {

    private final ParameterTracker delegate;
    private volatile DoubleSupplier scale;

    /**
     * @param delegate the optimizer's own tracker
     * @param scale the guard's scale
     */
    public ScaledTracker(ParameterTracker delegate, DoubleSupplier scale) {
        this.delegate = delegate;
        this.scale = scale;
    }

    /**
     * Points the tracker at another guard's scale (a guard that takes the trainer over).
     *
     * @param newScale the new scale source
     */
    public void retarget(DoubleSupplier newScale) {
        this.scale = newScale;
    }

    /** @return the optimizer's own tracker */
    public ParameterTracker delegate() {
        return delegate;
    }

    @Override
    public float getNewValue(String parameterId, int numUpdate) {
        float lr = delegate.getNewValue(parameterId, numUpdate);
        double s = scale.getAsDouble();
        return s == 1.0 ? lr : (float) (lr * s);
    }
}
