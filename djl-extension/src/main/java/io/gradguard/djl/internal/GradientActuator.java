package io.gradguard.djl.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/** In-place gradient arithmetic, on the gradient's own device, through the engine-agnostic NDArray API. */
public final class GradientActuator {

    private static final NDIndex ALL = new NDIndex("...");

    /**
     * Sets every element of a gradient to zero. Unlike {@code g.muli(0)} this also clears NaN and
     * infinite entries.
     *
     * @param grad the gradient (a handle on the parameter's gradient)
     */
    public void zero(NDArray grad) {
        grad.set(ALL, 0);
    }

    /**
     * Scales a gradient in place.
     *
     * @param grad the gradient
     * @param coef the factor
     */
    public void scale(NDArray grad, double coef) {
        grad.muli(coef);
    }
}
