package io.gradguard.models;

import ai.djl.nn.Block;
import java.util.Random;

/**
 * Feature-scale mismatch: the same regression, but two of the inputs arrive in raw units
 * {@value #SCALE} times larger than the standardized rest (a sum in cents beside z-scores). The loss's
 * curvature along their weights is {@code SCALE^2} times larger, so a learning rate tuned on standardized
 * inputs overshoots along them and SGD with momentum explodes. The reference standardizes every input
 * (the usual fix) at the same learning rate. Each variant is evaluated on its own input representation.
 */
public final class FeatureScaleScenario extends FixedRateMomentumScenario {

    static final int FEATURES = 16;
    static final float SCALE = 8f;
    static final float LR = 0.02f;

    /** The default set-up. */
    public FeatureScaleScenario() {
        super(LR);
    }

    @Override
    public String name() {
        return "feature-scale-mismatch";
    }

    @Override
    public String cause() {
        return "two of " + FEATURES + " inputs " + SCALE + "x larger than the standardized rest: curvature along their"
                + " weights " + (SCALE * SCALE) + "x larger, SGD momentum at the rate tuned on standardized inputs overshoots";
    }

    @Override
    public String referenceSetup() {
        return "same model, data and learning rate with every input standardized";
    }



    @Override
    protected Block buildBlock() {
        return Regression.reluMlp(3, 64);
    }


    @Override
    protected ScenarioData makeData(Variant variant, Random rng) {
        ScenarioData d = Regression.data(FEATURES, steps() * batchSize(), rng);
        if (variant == Variant.EXPLODING) {
            for (float[] x : new float[][] {d.trainX(), d.evalX()}) {
                for (int r = 0; r < x.length / FEATURES; r++) {
                    x[r * FEATURES] *= SCALE;
                    x[r * FEATURES + 1] *= SCALE;
                }
            }
        }
        return d;
    }
}
