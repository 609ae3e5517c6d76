package io.gradguard.benchmarks.anchors;

import ai.djl.ndarray.NDArray;
import ai.djl.training.Trainer;

/**
 * ReduceLROnPlateau (Keras, PyTorch) on the smoothed training loss: the batch loss is smoothed (EMA 0.98,
 * bias-corrected) and checked every {@value #CHECK_EVERY} steps; after {@value #PATIENCE} checks without a
 * relative improvement of {@code 1e-4} on the best value, the learning rate is multiplied by 0.5 (PyTorch's
 * default factor is 0.1; the issue asks for 0.5). No cooldown, no floor. A non-finite loss never improves.
 */
public final class ReduceLrOnPlateau extends LrScaled {

    static final int CHECK_EVERY = 10;
    static final int PATIENCE = 10;
    static final double FACTOR = 0.5;
    static final double THRESHOLD = 1e-4;
    static final double BETA = 0.98;

    private double ema;
    private long seen;
    private double best = Double.POSITIVE_INFINITY;
    private int bad;

    @Override
    public void step(Trainer trainer, NDArray loss) {
        bind(trainer);
        double l = value(loss);
        seen++;
        ema = BETA * ema + (1 - BETA) * l;
        if (seen % CHECK_EVERY == 0) {
            double smoothed = ema / (1 - Math.pow(BETA, seen));
            if (smoothed < best * (1 - THRESHOLD)) {
                best = smoothed;
                bad = 0;
            } else if (++bad > PATIENCE) {
                setScale(scale() * FACTOR);
                bad = 0;
            }
        }
        trainer.step();
    }
}
