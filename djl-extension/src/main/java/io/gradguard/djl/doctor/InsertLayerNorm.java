package io.gradguard.djl.doctor;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;

/**
 * Inserts a {@link LayerNorm} (over the last axis, learnable scale and shift starting at 1 and 0) right after each
 * {@link Linear} of every {@link SequentialBlock} in the tree, except the model's last Linear (its output layer).
 * The sequences are rebuilt with the same child instances under their old names, so every existing parameter keeps
 * its name; an inserted norm is named after the Linear it follows, {@code <child>LayerNorm} (its parameters
 * {@code <child>LayerNorm_gamma}, {@code _beta}). The inserted norms are left uninitialized: the next
 * {@code initialize} creates their parameters and keeps the others. Convolutions are left alone (see
 * {@link InsertBatchNorm}).
 */
public final class InsertLayerNorm extends NormInsertion {

    /** The fix. */
    public InsertLayerNorm() {}

    @Override
    public String name() {
        return "layer-norm";
    }

    @Override
    public String prescription() {
        return "insert LayerNorm after each hidden Linear: add(LayerNorm.builder().axis(lastAxis).build())";
    }

    /** Applies when a {@code SequentialBlock} holds two or more Linear layers and the flow check found depth trouble. */
    @Override
    public boolean appliesTo(Block block, FlowReport report) {
        return linears(block) >= 2 && report.depthTrouble();
    }

    @Override
    String suffix() {
        return "LayerNorm";
    }

    @Override
    boolean follows(Block child) {
        return child instanceof Linear;
    }

    @Override
    Block norm(Block child, Shape out) {
        return LayerNorm.builder().axis(out.dimension() - 1).build();
    }

    @Override
    String needs() {
        return "2 or more Linear layers";
    }

    @Override
    int targets(Block block) {
        return linears(block);
    }

    static int linears(Block b) {
        return BlockTree.count(b, Linear.class::isInstance);
    }
}
