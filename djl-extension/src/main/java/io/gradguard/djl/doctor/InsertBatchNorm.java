package io.gradguard.djl.doctor;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.nn.core.Linear;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.BatchNorm;

/**
 * Inserts a {@link BatchNorm} right after each {@link Linear} and each {@link Convolution} of every
 * {@link SequentialBlock} in the tree, except the model's last Linear (its output layer): over the channel axis (1) after
 * a convolution, over the last axis after a Linear; learnable scale and shift starting at 1 and 0, running statistics
 * for evaluation (DJL's defaults: momentum 0.9, epsilon 1e-5). Names are kept as {@link InsertLayerNorm} keeps them;
 * an inserted norm is {@code <child>BatchNorm} (parameters {@code <child>BatchNorm_gamma}, {@code _beta}, and the
 * running mean and variance). It is the usual repair of a plain conv net; for an MLP trained on small batches,
 * {@link InsertLayerNorm} does not depend on the batch.
 */
public final class InsertBatchNorm extends NormInsertion {

    /** The fix. */
    public InsertBatchNorm() {}

    @Override
    public String name() {
        return "batch-norm";
    }

    @Override
    public String prescription() {
        return "insert BatchNorm after each hidden Linear and convolution: add(BatchNorm.builder().optAxis(1).build())"
                + " (the last axis after a Linear)";
    }

    /**
     * Applies when the tree holds two or more Linear or convolution layers, at least one a convolution, and the flow
     * check found depth trouble (for MLPs the doctor tries {@link InsertLayerNorm}).
     */
    @Override
    public boolean appliesTo(Block block, FlowReport report) {
        return targets(block) >= 2 && BlockTree.count(block, InsertBatchNorm::convolution) >= 1 && report.depthTrouble();
    }

    @Override
    String suffix() {
        return "BatchNorm";
    }

    @Override
    boolean follows(Block child) {
        return child instanceof Linear || convolution(child);
    }

    @Override
    Block norm(Block child, Shape out) {
        return BatchNorm.builder().optAxis(convolution(child) ? 1 : out.dimension() - 1).build();
    }

    /**
     * A convolution: DJL's, or any leaf block whose own weight has three or more axes (a convolution written from
     * tensor operations, as the generated family's is).
     */
    static boolean convolution(Block b) {
        if (b instanceof Convolution) {
            return true;
        }
        if (!b.getChildren().isEmpty()) {
            return false;
        }
        Parameter w = BlockTree.ownWeight(b);
        return w != null && w.getArray().getShape().dimension() >= 3;
    }

    @Override
    String needs() {
        return "2 or more Linear or convolution layers";
    }

    @Override
    int targets(Block block) {
        return BlockTree.count(block, c -> c instanceof Linear || convolution(c));
    }
}
