package io.gradguard.models.family;

import ai.djl.nn.Block;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.gradguard.models.SafeOps;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioData;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.util.Random;

/**
 * A generated set-up as a {@link Scenario}: the same runs, losses and evaluation as the zoo. Its reference
 * variant trains at the oracle learning rate ({@link #withOracle}) and its exploding variant at
 * {@link Setup#multiplier()} times that. Runs are opened with the set-up's own seed, and weights come from
 * that seed alone (not from the engine's random state), so a set-up trains the same whatever ran before.
 */
public final class GeneratedScenario extends Scenario {

    private final Setup setup;
    private final float oracleLr;
    private ScenarioData data;
    private double constantLoss = Double.NaN;

    /**
     * @param setup the set-up
     */
    public GeneratedScenario(Setup setup) {
        this(setup, Float.NaN);
    }

    private GeneratedScenario(Setup setup, float oracleLr) {
        this.setup = setup;
        this.oracleLr = oracleLr;
    }

    /**
     * @param seed a seed
     * @return the scenario of the set-up that seed draws
     */
    public static GeneratedScenario of(long seed) {
        return new GeneratedScenario(FamilyGenerator.draw(seed));
    }

    /**
     * The same set-up with its oracle learning rate known (see {@link OracleSearch}).
     *
     * @param lr the oracle learning rate
     * @return a new scenario sharing this one's data
     */
    public GeneratedScenario withOracle(float lr) {
        GeneratedScenario g = new GeneratedScenario(setup, lr);
        g.data = data;
        g.constantLoss = constantLoss;
        return g;
    }

    /** @return the set-up */
    public Setup setup() {
        return setup;
    }

    /** @return the oracle learning rate, NaN until {@link #withOracle} */
    public float oracleLr() {
        return oracleLr;
    }

    /**
     * The learning rate the oracle grid is centred on, per optimizer: SGD 0.05, momentum 0.01, Adam and
     * AdamW 0.002.
     *
     * @return the nominal learning rate
     */
    public float nominalLr() {
        return switch (setup.optimizer()) {
            case SGD -> 0.05f;
            case MOMENTUM -> 0.01f;
            case ADAM, ADAMW, RMSPROP -> 0.002f;
        };
    }

    /** @return the loss of the best constant prediction on the evaluation set: where a collapsed run sits */
    public double constantLoss() {
        if (Double.isNaN(constantLoss)) {
            constantLoss = FamilyData.constantLoss(setup, data());
        }
        return constantLoss;
    }

    private ScenarioData data() {
        if (data == null) {
            data = FamilyData.make(setup, new Random(setup.seed()));
        }
        return data;
    }

    /**
     * Opens a run of this set-up at a learning rate, with its own seed.
     *
     * @param learningRate the peak learning rate
     * @return the run
     */
    public ScenarioRun open(float learningRate) {
        return open(Variant.REFERENCE, learningRate, -1f, setup.seed());
    }

    @Override
    public String name() {
        return setup.id();
    }

    @Override
    public String cause() {
        return "generated set-up " + setup + ": its exploding twin trains at " + String.format(java.util.Locale.ROOT,
                "%.1f", setup.multiplier()) + "x the oracle learning rate";
    }

    @Override
    public String referenceSetup() {
        return "the same set-up at the oracle learning rate (the best of an unguarded grid in factors of 2)";
    }

    @Override
    public float documentedReferenceLoss() {
        return Float.NaN;
    }

    @Override
    public int steps() {
        return setup.steps();
    }

    @Override
    public int batchSize() {
        return setup.batchSize();
    }

    @Override
    public float learningRate(Variant variant) {
        if (Float.isNaN(oracleLr)) {
            throw new IllegalStateException(name() + ": the oracle learning rate is not known yet (withOracle)");
        }
        return variant == Variant.EXPLODING ? (float) (oracleLr * setup.multiplier()) : oracleLr;
    }

    @Override
    protected Block buildBlock() {
        return FamilyModels.build(setup);
    }

    @Override
    protected Loss loss() {
        return setup.task().classification() ? Loss.softmaxCrossEntropyLoss() : SafeOps.l2Loss();
    }

    @Override
    protected Optimizer optimizer(float learningRate, float clipGrad) {
        Tracker tracker = Tracker.fixed(learningRate);
        if (setup.schedule() == Setup.Schedule.WARMUP_COSINE) {
            int warm = setup.warmupSteps();
            Tracker cosine = Tracker.cosine().setBaseValue(learningRate).optFinalValue(learningRate * 0.01f)
                    .setMaxUpdates(Math.max(1, setup.steps() - warm)).build();
            tracker = Tracker.warmUp().optWarmUpBeginValue(0f).optWarmUpSteps(warm).setMainTracker(cosine).build();
        }
        return switch (setup.optimizer()) {
            case SGD -> Optimizer.sgd().setLearningRateTracker(tracker).optClipGrad(clipGrad).build();
            case MOMENTUM -> Optimizer.sgd().setLearningRateTracker(tracker).optMomentum(0.9f).optClipGrad(clipGrad).build();
            case ADAM -> Optimizer.adam().optLearningRateTracker(tracker).optClipGrad(clipGrad).build();
            case ADAMW -> Optimizer.adamW().optLearningRateTracker(tracker).optWeightDecays(0.01f).optClipGrad(clipGrad).build();
            case RMSPROP -> Optimizer.rmsprop().optLearningRateTracker(tracker).optClipGrad(clipGrad).build();
        };
    }

    @Override
    protected ScenarioData makeData(Variant variant, Random rng) {
        return data();
    }
}
