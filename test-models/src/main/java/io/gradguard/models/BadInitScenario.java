package io.gradguard.models;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.NormalInitializer;
import java.util.Random;

/**
 * A deep plain ReLU MLP (no normalization, no residual connections) initialized with weights twice as
 * large as He initialization: every layer doubles the activations' variance, so after {@value #DEPTH}
 * layers the forward signal and the backward gradients are {@code 2^DEPTH} times too large and SGD with
 * momentum at an ordinary learning rate explodes in its first steps. The reference is the same network
 * with He (Kaiming) normal initialization, at the same learning rate.
 */
public final class BadInitScenario extends FixedRateMomentumScenario {

    static final int FEATURES = 16;
    static final int DEPTH = 16;
    static final int WIDTH = 64;
    static final float LR = 0.005f;
    /** Standard deviation of every weight of the exploding variant: sqrt(2 * 2 / 64), twice He's variance. */
    static final float BAD_SIGMA = (float) Math.sqrt(4.0 / WIDTH);
    /** He normal for the hidden layers' fan-in of 64. */
    static final float HE_SIGMA = (float) Math.sqrt(2.0 / WIDTH);

    /** The default set-up. */
    public BadInitScenario() {
        super(LR);
    }

    @Override
    public String name() {
        return "deep-mlp-bad-init";
    }

    @Override
    public String cause() {
        return DEPTH + "-layer plain ReLU MLP with weights N(0, " + BAD_SIGMA + "^2), twice He's variance: activations"
                + " and gradients grow 2x per layer, SGD momentum 0.9 at lr " + LR + " explodes in its first steps";
    }

    @Override
    public String referenceSetup() {
        return "same network and learning rate with He normal initialization N(0, " + HE_SIGMA + "^2)";
    }



    @Override
    protected Block buildBlock() {
        return buildBlock(Variant.REFERENCE);
    }

    @Override
    protected Block buildBlock(Variant variant) {
        Block b = Regression.reluMlp(DEPTH, WIDTH);
        b.setInitializer(new NormalInitializer(variant == Variant.EXPLODING ? BAD_SIGMA : HE_SIGMA), Parameter.Type.WEIGHT);
        return b;
    }


    @Override
    protected ScenarioData makeData(Variant variant, Random rng) {
        return Regression.data(FEATURES, steps() * batchSize(), rng);
    }
}
