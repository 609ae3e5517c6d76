package io.gradguard.djl.doctor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Layer-sequential unit-variance initialization (LSUV; Mishkin and Matas, "All you need is a good init", ICLR 2016):
 * a data-dependent re-initialization. It runs a sample of inputs through the model one child at a time and, at each
 * weight layer met on the way (a {@link Linear} or a convolution, see {@link InsertBatchNorm#convolution}), scales
 * the layer's weight so that its output's variance on the sample is 1, repeating up to {@value #MAX_ROUNDS} times
 * until it is within {@value #TOLERANCE} of 1, before the sample moves on to the next layer. The output layer (the
 * model's last Linear) is left alone: training matches its scale to the targets. Biases are left alone.
 *
 * <p>It acts in place on the values (every name kept) and needs {@link FixContext#sample()}. The sample walks the
 * children of every {@link SequentialBlock} from the root in order; any other block is run whole and its weights are
 * not scaled (a residual or recurrent block, say).
 */
public final class Lsuv implements StructureFix {

    /** Rounds of measure-and-scale per layer, at most. */
    static final int MAX_ROUNDS = 5;
    /** How close to 1 a layer's output variance must come before the next layer. */
    static final double TOLERANCE = 0.1;

    /** The fix. */
    public Lsuv() {}

    /** @return true: this fix only sets parameter values (the structure and every name stay) */
    @Override
    public boolean reinitializes() {
        return true;
    }

    @Override
    public String name() {
        return "lsuv";
    }

    @Override
    public String prescription() {
        return "re-initialize by LSUV: scale each hidden layer's weight so its output variance on a batch is 1"
                + " (Mishkin & Matas 2016), layer by layer from the input";
    }

    /** Applies to a {@code SequentialBlock} with two or more weight layers in its chain when depth trouble was found. */
    @Override
    public boolean appliesTo(Block block, FlowReport report) {
        return block instanceof SequentialBlock && scalable(block, BlockTree.lastLinear(block)) >= 2 && report.depthTrouble();
    }

    @Override
    public FixResult apply(Block block, FixContext context) {
        Linear last = BlockTree.lastLinear(block);
        if (!(block instanceof SequentialBlock seq) || scalable(block, last) == 0) {
            throw new IllegalArgumentException("lsuv: needs a SequentialBlock root with a Linear or convolution layer"
                    + " (not the output layer) in its chain, got " + block.getClass().getSimpleName());
        }
        if (context.sample() == null || context.sample().getShape().dimension() < 2) {
            throw new IllegalArgumentException("lsuv: needs a sample of inputs with a batch axis (FixContext.sample), got "
                    + (context.sample() == null ? "none" : context.sample().getShape()));
        }
        List<String> changed = new ArrayList<>();
        List<String> scales = new ArrayList<>();
        try (NDManager scope = context.manager().newSubManager()) {
            ParameterStore store = new ParameterStore(scope, false);
            NDList x = new NDList(context.sample().duplicate());
            x.attach(scope);
            walk(seq, "", x, store, scope, last, changed, scales);
        }
        return new FixResult(name(), block, List.copyOf(changed), List.of(), true, "LSUV scaled " + changed.size()
                + " weight" + (changed.size() == 1 ? "" : "s") + " to unit output variance (factors " + String.join(", ",
                        scales) + ")");
    }

    private static NDList walk(SequentialBlock seq, String prefix, NDList x, ParameterStore store, NDManager scope,
            Linear last, List<String> changed, List<String> scales) {
        for (Pair<String, Block> child : seq.getChildren()) {
            Block c = child.getValue();
            if (c instanceof SequentialBlock inner) {
                x = walk(inner, prefix + child.getKey() + "_", x, store, scope, last, changed, scales);
                continue;
            }
            Parameter w = weight(c);
            NDList measured = null;
            if (w != null && c != last) {
                double total = 1;
                for (int round = 0; round < MAX_ROUNDS; round++) {
                    NDList out = c.forward(store, x, false);
                    out.attach(scope);
                    NDArray o = out.head().toType(DataType.FLOAT64, false);
                    double mean = o.mean().getDouble();
                    double variance = o.pow(2).mean().getDouble() - mean * mean;
                    if (!(variance > 0) || Double.isInfinite(variance) || Math.abs(variance - 1) < TOLERANCE) {
                        // the output of the weight as it now is: the next layer's input
                        measured = out;
                        break;
                    }
                    double factor = 1 / Math.sqrt(variance);
                    BlockTree.scale(w, factor);
                    total *= factor;
                }
                changed.add(prefix + child.getKey() + "_" + w.getName());
                scales.add(String.format(Locale.ROOT, "%.3g", total));
            }
            if (measured != null) {
                x = measured;
                continue;
            }
            x = c.forward(store, x, false);
            x.attach(scope);
        }
        return x;
    }

    /** The block's own weight, when it is a Linear or a convolution with an initialized weight. */
    private static Parameter weight(Block b) {
        if (!(b instanceof Linear) && !InsertBatchNorm.convolution(b)) {
            return null;
        }
        return BlockTree.ownWeight(b);
    }

    /** The weight layers LSUV scales: those of the {@code SequentialBlock} chain from the root, not the output layer. */
    private static int scalable(Block b, Linear last) {
        if (b instanceof SequentialBlock) {
            int n = 0;
            for (Pair<String, Block> c : b.getChildren()) {
                n += scalable(c.getValue(), last);
            }
            return n;
        }
        return b != last && weight(b) != null ? 1 : 0;
    }
}
