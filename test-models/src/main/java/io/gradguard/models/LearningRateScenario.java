package io.gradguard.models;

/**
 * A scenario whose exploding variant is the reference at {@code factor} times its tuned learning rate.
 */
abstract class LearningRateScenario extends Scenario {

    /** The tuned learning rate of the reference. */
    protected final float tunedLr;
    /** How many times the tuned rate the exploding variant uses. */
    protected final float factor;

    LearningRateScenario(float tunedLr, float factor) {
        this.tunedLr = tunedLr;
        this.factor = factor;
    }

    /**
     * @param prefix the scenario's name without the factor
     * @return e.g. {@code deep-mlp-sgd-momentum-lr5x}
     */
    protected String nameWithFactor(String prefix) {
        return prefix + "-lr" + (int) factor + "x";
    }

    @Override
    public String referenceSetup() {
        return "same model and data at the tuned learning rate " + tunedLr;
    }

    @Override
    public float learningRate(Variant variant) {
        return variant == Variant.EXPLODING ? tunedLr * factor : tunedLr;
    }
}
