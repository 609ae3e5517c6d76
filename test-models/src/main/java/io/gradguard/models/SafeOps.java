package io.gradguard.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.Loss;

/**
 * Arithmetic with a constant that stays correct under autograd on DJL 0.36's PyTorch engine.
 *
 * <p>There, {@code NDArray.mul(Number)} (and {@code div}, {@code add}, {@code sub} with a number) wraps the
 * number in a tensor over a Java direct buffer, uses it and closes it. When the operation records a
 * backward that needs the constant (a product, a quotient), autograd keeps that tensor, whose memory the
 * JVM frees at its next garbage collection: the backward pass then reads freed memory. Measured here: with
 * a collection between forward and backward, {@code Loss.l2Loss()}'s gradient was wrong in 100 of 100
 * tries (scaled by another constant's value or by 3e29); without one it is right, so a run's result
 * depends on when the JVM collects. A constant made by {@code NDManager.full} lives in native memory and is
 * safe; these helpers use it, and give the same bits as the number form when nothing was freed.
 */
public final class SafeOps {

    private SafeOps() {}

    /**
     * {@code x * factor}, safe to differentiate.
     *
     * @param x the array
     * @param factor the constant
     * @return a new array
     */
    public static NDArray mul(NDArray x, float factor) {
        try (NDArray c = x.getManager().full(new Shape(), factor, x.getDataType())) {
            return x.mul(c);
        }
    }

    /**
     * {@code x / divisor}, safe to differentiate.
     *
     * @param x the array
     * @param divisor the constant
     * @return a new array
     */
    public static NDArray div(NDArray x, float divisor) {
        try (NDArray c = x.getManager().full(new Shape(), divisor, x.getDataType())) {
            return x.div(c);
        }
    }

    /**
     * DJL's L2 loss, {@code mean(0.5 * (label - prediction)^2)}, with the half applied safely: the same
     * numbers as {@code Loss.l2Loss()}, without its freed-memory gradient.
     *
     * @return the loss
     */
    public static Loss l2Loss() {
        return new Loss("L2Loss") {
            @Override
            public NDArray evaluate(NDList label, NDList prediction) {
                NDArray pred = prediction.singletonOrThrow();
                NDArray y = label.singletonOrThrow().reshape(pred.getShape());
                return mul(y.sub(pred).square(), 0.5f).mean();
            }
        };
    }
}
