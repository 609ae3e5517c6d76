package io.gradguard.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.training.loss.Loss;
import java.util.Random;

/**
 * A loss that divides by the target: mean relative error {@code |p - y| / (|y| + eps)}, on data where
 * about one target in a hundred is within 1e-4 of zero (a meter reading of zero, a price of zero). With
 * {@code eps = 1e-6} those rows give gradients up to 10^6 times the others and SGD with momentum
 * explodes on the first batches that hold them. The reference floors the denominator,
 * {@code eps = 0.1}, the usual fix. Both are evaluated with the floored loss.
 */
public final class RelativeErrorScenario extends FixedRateMomentumScenario {

    static final int FEATURES = 16;
    static final float LR = 0.01f;

    /** The relative error with a floor on the denominator. */
    static final class RelativeError extends Loss {
        private final float eps;

        RelativeError(float eps) {
            super("relative-error-eps" + eps);
            this.eps = eps;
        }

        @Override
        public NDArray evaluate(NDList labels, NDList predictions) {
            NDArray y = labels.singletonOrThrow();
            NDArray p = predictions.singletonOrThrow().reshape(y.getShape());
            return p.sub(y).abs().div(y.abs().add(eps)).mean();
        }
    }

    /** The default set-up. */
    public RelativeErrorScenario() {
        super(LR);
    }

    @Override
    public String name() {
        return "relative-error-near-zero";
    }

    @Override
    public String cause() {
        return "mean relative error |p - y| / (|y| + 1e-6) with 1% of the targets within 1e-4 of zero: those rows'"
                + " gradients are up to 1e6 times the rest";
    }

    @Override
    public String referenceSetup() {
        return "same model, data and learning rate with the denominator floored: |p - y| / (|y| + 0.1)";
    }



    @Override
    protected Block buildBlock() {
        return Regression.reluMlp(3, 64);
    }

    @Override
    protected Loss loss() {
        return new RelativeError(0.1f);
    }

    @Override
    protected Loss loss(Variant variant) {
        return new RelativeError(variant == Variant.EXPLODING ? 1e-6f : 0.1f);
    }


    @Override
    protected ScenarioData makeData(Variant variant, Random rng) {
        ScenarioData d = Regression.data(FEATURES, steps() * batchSize(), rng);
        float[] y = d.trainY();
        Random zeros = new Random(SEED + 7);
        for (int i = 0; i < y.length; i++) {
            if (zeros.nextInt(100) == 0) {
                y[i] = (float) (1e-4 * (zeros.nextDouble() * 2 - 1));
            }
        }
        return d;
    }
}
