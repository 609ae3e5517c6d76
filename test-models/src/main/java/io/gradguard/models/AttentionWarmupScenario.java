package io.gradguard.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.PairList;
import java.util.Random;

/**
 * A small transformer-like block (single-head self-attention and an MLP, each with a residual
 * connection, no normalization and no QK normalization) on Pascanu's addition problem, where attention
 * must find the two marked positions. Trained with Adam at a learning rate that needs a warm-up: without
 * one, the first large updates grow the query and key weights, the attention logits blow up and the
 * softmax saturates (the attention-entropy collapse of Zhai et al. 2023), and the loss spikes and
 * diverges. The reference is the same model at the tuned peak rate (0.03) reached by a linear warm-up
 * over {@value #WARMUP} steps.
 *
 * <p>Measured (eval loss, 400 steps): peak lr 0.01 without / with warm-up 0.00053 / 0.0011, 0.03
 * 0.00029 / 0.00021, 0.1 0.0828 / 0.00057 (MKL default kernels); with bit-reproducible MKL the
 * warmed-up peak-0.1 run ends at 0.0046, so the reference is the tuned 0.03 with warm-up. Without the
 * warm-up at 0.1 the loss does not go NaN: it spikes and plateaus high.
 */
public final class AttentionWarmupScenario extends Scenario {

    static final int D = 32;
    static final int WARMUP = 100;
    /** The tuned reference: peak 0.03 with the warm-up (at peak 0.1 even the warmed-up run is erratic). */
    static final float TUNED_LR = 0.03f;
    private final float lr;

    /** The default set-up: lr 0.1 from step 0. */
    public AttentionWarmupScenario() {
        this(0.1f);
    }

    /** @param lr the learning rate of the exploding variant (no warm-up) */
    public AttentionWarmupScenario(float lr) {
        this.lr = lr;
    }

    /** Self-attention + MLP with residuals, mean-pooled to one output. */
    static final class TinyTransformer extends AbstractBlock {
        private final Linear in;
        private final Linear q;
        private final Linear k;
        private final Linear v;
        private final Linear o;
        private final Linear up;
        private final Linear down;
        private final Linear head;

        TinyTransformer() {
            in = addChildBlock("in", Linear.builder().setUnits(D).build());
            q = addChildBlock("q", Linear.builder().setUnits(D).optBias(false).build());
            k = addChildBlock("k", Linear.builder().setUnits(D).optBias(false).build());
            v = addChildBlock("v", Linear.builder().setUnits(D).optBias(false).build());
            o = addChildBlock("o", Linear.builder().setUnits(D).build());
            up = addChildBlock("up", Linear.builder().setUnits(4 * D).build());
            down = addChildBlock("down", Linear.builder().setUnits(D).build());
            head = addChildBlock("head", Linear.builder().setUnits(1).build());
        }

        private static NDArray apply(Linear l, ParameterStore ps, NDArray x, boolean training) {
            return l.forward(ps, new NDList(x), training).singletonOrThrow();
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            NDArray h = apply(in, ps, inputs.singletonOrThrow(), training);
            NDArray qs = apply(q, ps, h, training);
            NDArray ks = apply(k, ps, h, training);
            NDArray vs = apply(v, ps, h, training);
            NDArray att = SafeOps.div(qs.matMul(ks.transpose(0, 2, 1)), (float) Math.sqrt(D)).softmax(-1);
            h = h.add(apply(o, ps, att.matMul(vs), training));
            h = h.add(apply(down, ps, ai.djl.nn.Activation.relu(apply(up, ps, h, training)), training));
            return new NDList(apply(head, ps, h.mean(new int[] {1}), training));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[] {new Shape(inputShapes[0].get(0), 1)};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            Shape x = inputShapes[0];
            Shape hidden = new Shape(x.get(0), x.get(1), D);
            in.initialize(manager, dataType, x);
            for (Linear l : new Linear[] {q, k, v, o, up}) {
                l.initialize(manager, dataType, hidden);
            }
            down.initialize(manager, dataType, new Shape(x.get(0), x.get(1), 4 * D));
            head.initialize(manager, dataType, new Shape(x.get(0), D));
        }
    }

    @Override
    public String name() {
        return "attention-no-warmup";
    }

    @Override
    public String cause() {
        return "self-attention + MLP block (residuals, no normalization, no QK norm), Adam at peak lr " + lr
                + " from step 0: attention logits blow up and the loss diverges";
    }

    @Override
    public String referenceSetup() {
        return "same model, Adam at the tuned peak learning rate " + TUNED_LR + " reached by a linear warm-up over "
                + WARMUP + " steps";
    }

    @Override
    public float documentedReferenceLoss() {
        return Float.NaN;
    }

    @Override
    public int steps() {
        return 400;
    }

    @Override
    public float learningRate(Variant variant) {
        return variant == Variant.EXPLODING ? lr : TUNED_LR;
    }

    @Override
    protected Block buildBlock() {
        return new TinyTransformer();
    }

    @Override
    protected Optimizer optimizer(float learningRate, float clipGrad) {
        return optimizer(Variant.REFERENCE, learningRate, clipGrad);
    }

    @Override
    protected Optimizer optimizer(Variant variant, float learningRate, float clipGrad) {
        Tracker tracker = variant == Variant.EXPLODING ? Tracker.fixed(learningRate)
                : Tracker.warmUp().optWarmUpBeginValue(0f).optWarmUpSteps(WARMUP)
                        .setMainTracker(Tracker.fixed(learningRate)).build();
        return Optimizer.adam().optLearningRateTracker(tracker).optClipGrad(clipGrad).build();
    }

    @Override
    protected ScenarioData makeData(Variant variant, Random rng) {
        return new RnnAdditionScenario().makeData(variant, rng);
    }
}
