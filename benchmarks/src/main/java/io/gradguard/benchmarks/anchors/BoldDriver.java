package io.gradguard.benchmarks.anchors;

import ai.djl.ndarray.NDArray;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import io.gradguard.djl.internal.GradientInspector;
import io.gradguard.djl.internal.TrainingSnapshot;

/**
 * The bold driver (Vogl et al. 1988; Battiti 1989): when the loss rises by more than 4%, the last update is
 * rejected (parameters and optimizer state go back to before it), the current gradient is dropped and the
 * learning rate is multiplied by 0.5; after each good step it is multiplied by 1.05, without a cap.
 *
 * <p>With mini-batches the raw batch loss rises on about half the steps by noise alone, which would halve
 * the rate for nothing; so the test is on the smoothed loss (EMA 0.9): a rise of more than 4% in one step
 * means the batch loss jumped about 40% above the recent level. A non-finite loss is a rise.
 */
public final class BoldDriver extends LrScaled implements AutoCloseable {

    static final double RISE = 1.04;
    static final double CUT = 0.5;
    static final double GROW = 1.05;
    static final double BETA = 0.9;

    private TrainingSnapshot beforeLast;
    private double ema = Double.NaN;
    private long rejected;

    @Override
    protected void onBind(Trainer trainer, Optimizer optimizer, GradientInspector params) {
        beforeLast = new TrainingSnapshot(params, optimizer, false);
    }

    /** @return how many updates were rejected */
    public long rejected() {
        return rejected;
    }

    @Override
    public void step(Trainer trainer, NDArray loss) {
        bind(trainer);
        double l = value(loss);
        if (Double.isNaN(ema)) {
            ema = l;
        }
        double next = BETA * ema + (1 - BETA) * l;
        boolean rose = !Double.isFinite(l) || !(next <= RISE * ema);
        if (rose && beforeLast.step() >= 0) {
            rejected++;
            beforeLast.restore();
            zeroGradients();
            setScale(scale() * CUT);
            return;
        }
        if (Double.isFinite(l)) {
            ema = next;
            setScale(scale() * GROW);
        }
        beforeLast.take(beforeLast.step() + 1);
        trainer.step();
    }

    /** Frees the copy. */
    @Override
    public void close() {
        if (beforeLast != null) {
            beforeLast.close();
        }
    }
}
