package io.gradguard.models;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import java.util.Random;

/**
 * A small, seeded training set-up that explodes for a known reason, with a tuned stable reference.
 *
 * <p>Every scenario trains for one pass over {@link #steps()} batches; the final loss is measured on a
 * fixed, clean evaluation set (see {@link ScenarioRun#evalLoss(ai.djl.training.Trainer)}). Scenarios depend on the engine only,
 * never on GradGuard, so that every module's tests, the samples and the benchmarks can share them.
 */
public abstract class Scenario {

    /** Seed for the engine (parameter initialization) and the data. */
    public static final int SEED = 42;

    /** @return short identifier, e.g. {@code deep-mlp-sgd-momentum} */
    public abstract String name();

    /** @return why the {@link Variant#EXPLODING} variant explodes */
    public abstract String cause();

    /** @return what the tuned {@link Variant#REFERENCE} variant does differently */
    public abstract String referenceSetup();

    /**
     * The final evaluation loss of the {@link Variant#REFERENCE} variant, as measured on the PyTorch
     * CPU engine when the scenario was tuned (tests re-measure it; this is the documented value).
     *
     * @return the documented reference loss
     */
    public abstract float documentedReferenceLoss();

    /** @return the number of optimizer steps (batches) of one run; 300 unless a scenario says otherwise */
    public int steps() {
        return 300;
    }

    /** @return the batch size; 32 unless a scenario says otherwise */
    public int batchSize() {
        return 32;
    }

    /**
     * The learning rate of a variant.
     *
     * @param variant which variant
     * @return its learning rate
     */
    public abstract float learningRate(Variant variant);

    /** @return a fresh, uninitialized model block */
    protected abstract Block buildBlock();

    /**
     * The block of a variant; the same for both unless a scenario's cause is in the model (its
     * initialization, say).
     *
     * @param variant which variant
     * @return a fresh, uninitialized model block
     */
    protected Block buildBlock(Variant variant) {
        return buildBlock();
    }

    /**
     * The loss a variant trains with; {@link #loss()} unless the scenario's cause is in the loss.
     *
     * @param variant which variant
     * @return the loss
     */
    protected Loss loss(Variant variant) {
        return loss();
    }

    /**
     * The loss the final evaluation reports, the same for both variants so that they compare.
     *
     * @return the evaluation loss; the reference variant's training loss unless a scenario says otherwise
     */
    public Loss evaluationLoss() {
        return loss(Variant.REFERENCE);
    }

    /** @return the loss function; the L2 loss unless a scenario says otherwise */
    protected Loss loss() {
        return SafeOps.l2Loss();
    }

    /**
     * The optimizer for a learning rate.
     *
     * @param learningRate the learning rate
     * @param clipGrad DJL's element-wise {@code optClipGrad} threshold, or -1 (DJL's default: none)
     * @return a new optimizer
     */
    protected abstract Optimizer optimizer(float learningRate, float clipGrad);

    /**
     * The optimizer of a variant; {@link #optimizer(float, float)} unless the scenario's cause is in the
     * schedule (a missing warm-up, say).
     *
     * @param variant which variant
     * @param learningRate the learning rate
     * @param clipGrad DJL's element-wise {@code optClipGrad} threshold, or -1
     * @return a new optimizer
     */
    protected Optimizer optimizer(Variant variant, float learningRate, float clipGrad) {
        return optimizer(learningRate, clipGrad);
    }

    /**
     * Makes the training data (steps × batch size rows) and the evaluation data.
     *
     * @param variant which variant (some scenarios corrupt the data of the exploding one)
     * @param rng the seeded random source
     * @return host-side data
     */
    protected abstract ScenarioData makeData(Variant variant, Random rng);

    /**
     * Builds the scenario: seeds the engine, builds the model and the data, and returns a run whose
     * training config the caller may still extend (listeners, evaluators) before creating the trainer.
     *
     * @param variant which variant
     * @return a new run; close it when done
     */
    public ScenarioRun open(Variant variant) {
        return open(variant, learningRate(variant));
    }

    /**
     * Builds the scenario with an explicit learning rate (used to tune and to sweep).
     *
     * @param variant which variant's data to use
     * @param learningRate the learning rate
     * @return a new run; close it when done
     */
    public ScenarioRun open(Variant variant, float learningRate) {
        return open(variant, learningRate, -1f);
    }

    /**
     * Builds the scenario with an explicit learning rate and DJL's own gradient clipping
     * ({@code Optimizer.Builder.optClipGrad}), for comparing against it.
     *
     * @param variant which variant's data to use
     * @param learningRate the learning rate
     * @param clipGrad the optimizer's {@code clipGrad}, or -1 for none
     * @return a new run; close it when done
     */
    public ScenarioRun open(Variant variant, float learningRate, float clipGrad) {
        return open(variant, learningRate, clipGrad, SEED);
    }

    /**
     * Builds the scenario with another seed (initialization and data), for averaging over seeds. The
     * scenario's documented numbers are for {@link #SEED}; another seed may explode differently or not
     * at all.
     *
     * @param variant which variant's data to use
     * @param learningRate the learning rate
     * @param clipGrad the optimizer's {@code clipGrad}, or -1 for none
     * @param seed the seed of the engine's initializers and of the data
     * @return a new run; close it when done
     */
    public ScenarioRun open(Variant variant, float learningRate, float clipGrad, long seed) {
        Engine.getInstance().setRandomSeed((int) seed);
        ScenarioData data = makeData(variant, new Random(seed));
        Model model = Model.newInstance(name());
        model.setBlock(buildBlock(variant));
        NDManager manager = model.getNDManager();
        DefaultTrainingConfig config =
                new DefaultTrainingConfig(loss(variant)).optOptimizer(optimizer(variant, learningRate, clipGrad));
        return new ScenarioRun(this, model, config, data.toNd(manager), batchSize());
    }

    @Override
    public String toString() {
        return name();
    }
}
