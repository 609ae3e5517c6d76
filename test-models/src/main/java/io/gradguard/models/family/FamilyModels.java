package io.gradguard.models.family;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.recurrent.GRU;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.nn.recurrent.RNN;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.gradguard.models.SafeOps;
import java.util.List;
import java.util.function.Function;

/** Builds the model of a generated set-up, with its weights initialized from the set-up's seed. */
public final class FamilyModels {

    private FamilyModels() {}

    /**
     * Builds the block of a set-up.
     *
     * @param s the set-up
     * @return a fresh, uninitialized block whose weights will be drawn from the set-up's seed
     */
    public static Block build(Setup s) {
        Block block = switch (s.arch()) {
            case MLP -> mlp(s);
            case CONV -> conv(s);
            case RESIDUAL_MLP -> residual(s);
            case RNN, GRU, LSTM -> recurrent(s);
            case ATTENTION -> new AttentionNet(s);
        };
        block.setInitializer(new SeededInitializer(s.init(), s.seed() * 31 + 7), Parameter.Type.WEIGHT);
        return block;
    }

    static Function<NDList, NDList> activation(Setup.Act act) {
        return switch (act) {
            case RELU -> Activation::relu;
            case TANH -> Activation::tanh;
            case GELU -> Activation::gelu;
            case LEAKY_RELU -> list -> new NDList(Activation.leakyRelu(list.singletonOrThrow(), 0.01f));
        };
    }

    private static Block mlp(Setup s) {
        SequentialBlock b = new SequentialBlock();
        for (int i = 0; i < s.depth(); i++) {
            b.add(Linear.builder().setUnits(s.width()).build()).add(activation(s.activation()));
        }
        return b.add(Linear.builder().setUnits(s.outputs()).build());
    }

    private static Block conv(Setup s) {
        SequentialBlock b = new SequentialBlock();
        long side = s.length();
        for (int i = 0; i < s.depth(); i++) {
            b.add(new Conv3x3(s.width())).add(activation(s.activation()));
            if (i % 2 == 1 && side >= 4 && side % 2 == 0) {
                b.add(new LambdaBlock(Conv3x3::maxPool2, "max-pool-2x2"));
                side /= 2;
            }
        }
        return b.add(Blocks.batchFlattenBlock()).add(Linear.builder().setUnits(32).build())
                .add(activation(s.activation())).add(Linear.builder().setUnits(s.outputs()).build());
    }

    private static Block residual(Setup s) {
        SequentialBlock b = new SequentialBlock();
        b.add(Linear.builder().setUnits(s.width()).build());
        for (int i = 0; i < s.depth(); i++) {
            SequentialBlock branch = new SequentialBlock();
            if (s.normalized()) {
                branch.add(LayerNorm.builder().build());
            }
            branch.add(Linear.builder().setUnits(s.width()).build()).add(activation(s.activation()))
                    .add(Linear.builder().setUnits(s.width()).build());
            b.add(new ParallelBlock(list -> new NDList(list.get(0).singletonOrThrow().add(list.get(1).singletonOrThrow())),
                    List.of(Blocks.identityBlock(), branch)));
        }
        if (s.normalized()) {
            b.add(LayerNorm.builder().build());
        }
        return b.add(activation(s.activation())).add(Linear.builder().setUnits(s.outputs()).build());
    }

    private static Block recurrent(Setup s) {
        SequentialBlock b = new SequentialBlock();
        b.add(switch (s.arch()) {
            case RNN -> RNN.builder().setNumLayers(s.depth()).setStateSize(s.width())
                    .setActivation(RNN.Activation.TANH).optBatchFirst(true).build();
            case GRU -> GRU.builder().setNumLayers(s.depth()).setStateSize(s.width()).optBatchFirst(true).build();
            case LSTM -> LSTM.builder().setNumLayers(s.depth()).setStateSize(s.width()).optBatchFirst(true).build();
            default -> throw new IllegalStateException(s.arch().name());
        });
        b.add(new LambdaBlock(list -> new NDList(list.head().get(new NDIndex(":, -1, :"))), "last-step"));
        return b.add(Linear.builder().setUnits(s.outputs()).build());
    }

    /** Self-attention and MLP residual blocks over a sequence, mean-pooled; pre-LayerNorm when normalized. */
    static final class AttentionNet extends AbstractBlock {
        private final Setup s;
        private final Linear in;
        private final Linear[][] layers;
        private final LayerNorm[][] norms;
        private final Linear head;
        private final Function<NDList, NDList> act;

        AttentionNet(Setup s) {
            this.s = s;
            this.act = activation(s.activation());
            int d = s.width();
            in = addChildBlock("in", Linear.builder().setUnits(d).build());
            layers = new Linear[s.depth()][];
            norms = new LayerNorm[s.depth()][];
            for (int i = 0; i < s.depth(); i++) {
                layers[i] = new Linear[] {
                    addChildBlock("q" + i, Linear.builder().setUnits(d).optBias(false).build()),
                    addChildBlock("k" + i, Linear.builder().setUnits(d).optBias(false).build()),
                    addChildBlock("v" + i, Linear.builder().setUnits(d).optBias(false).build()),
                    addChildBlock("o" + i, Linear.builder().setUnits(d).build()),
                    addChildBlock("up" + i, Linear.builder().setUnits(2 * d).build()),
                    addChildBlock("down" + i, Linear.builder().setUnits(d).build())
                };
                if (s.normalized()) {
                    norms[i] = new LayerNorm[] {
                        addChildBlock("ln_a" + i, LayerNorm.builder().axis(2).build()),
                        addChildBlock("ln_m" + i, LayerNorm.builder().axis(2).build())
                    };
                }
            }
            head = addChildBlock("head", Linear.builder().setUnits(s.outputs()).build());
        }

        private static NDArray apply(Block l, ParameterStore ps, NDArray x, boolean training) {
            return l.forward(ps, new NDList(x), training).singletonOrThrow();
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            NDArray h = apply(in, ps, inputs.singletonOrThrow(), training);
            for (int i = 0; i < layers.length; i++) {
                Linear[] l = layers[i];
                NDArray a = s.normalized() ? apply(norms[i][0], ps, h, training) : h;
                NDArray att = SafeOps.div(apply(l[0], ps, a, training).matMul(apply(l[1], ps, a, training).transpose(0, 2, 1)),
                        (float) Math.sqrt(s.width())).softmax(-1);
                h = h.add(apply(l[3], ps, att.matMul(apply(l[2], ps, a, training)), training));
                NDArray m = s.normalized() ? apply(norms[i][1], ps, h, training) : h;
                h = h.add(apply(l[5], ps, act.apply(new NDList(apply(l[4], ps, m, training))).singletonOrThrow(), training));
            }
            return new NDList(apply(head, ps, h.mean(new int[] {1}), training));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[] {new Shape(inputShapes[0].get(0), s.outputs())};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            Shape x = inputShapes[0];
            Shape hidden = new Shape(x.get(0), x.get(1), s.width());
            in.initialize(manager, dataType, x);
            for (int i = 0; i < layers.length; i++) {
                for (int j = 0; j < 5; j++) {
                    layers[i][j].initialize(manager, dataType, hidden);
                }
                layers[i][5].initialize(manager, dataType, new Shape(x.get(0), x.get(1), 2L * s.width()));
                if (norms[i] != null) {
                    norms[i][0].initialize(manager, dataType, hidden);
                    norms[i][1].initialize(manager, dataType, hidden);
                }
            }
            head.initialize(manager, dataType, new Shape(x.get(0), s.width()));
        }
    }
}
