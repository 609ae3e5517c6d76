package io.gradguard.djl.doctor;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.util.Pair;
import io.gradguard.djl.doctor.FlowReport.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * Inserts a {@link LayerNorm} (over the last axis, learnable scale and shift starting at 1 and 0) right after each
 * {@link Linear} of every {@link SequentialBlock} in the tree, except the model's last Linear (its output layer).
 * The sequences are rebuilt with the same child instances under their old names, so every existing parameter keeps
 * its name; an inserted norm is named after the Linear it follows, {@code <child>LayerNorm} (its parameters
 * {@code <child>LayerNorm_gamma}, {@code _beta}). The inserted norms are left uninitialized: the next
 * {@code initialize} creates their parameters and keeps the others. Convolutions are left alone.
 */
public final class InsertLayerNorm implements StructureFix {

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
        return linears(block) >= 2 && report.has(Kind.ACTIVATIONS_GROW, Kind.ACTIVATIONS_SHRINK, Kind.GRADIENTS_GROW,
                Kind.GRADIENTS_SHRINK, Kind.NON_FINITE);
    }

    @Override
    public FixResult apply(Block block, FixContext context) {
        if (!(block instanceof SequentialBlock seq) || linears(block) < 2) {
            throw new IllegalArgumentException("layer-norm: needs a SequentialBlock root holding 2 or more Linear layers,"
                    + " got " + block.getClass().getSimpleName() + " with " + linears(block) + " Linear");
        }
        Linear last = lastLinear(block);
        List<String> added = new ArrayList<>();
        Block fixed = rebuild(seq, "", context.inputShape(), last, added);
        return new FixResult(name(), fixed, List.of(), List.copyOf(added), true,
                "inserted " + added.size() + " LayerNorm block" + (added.size() == 1 ? "" : "s") + " after hidden Linear layers");
    }

    private static SequentialBlock rebuild(SequentialBlock seq, String prefix, Shape in, Linear last, List<String> added) {
        NamedSequentialBlock out = new NamedSequentialBlock();
        Shape[] shapes = {in};
        for (Pair<String, Block> child : seq.getChildren()) {
            Block c = child.getValue();
            Shape[] next = c.getOutputShapes(shapes);
            if (c instanceof SequentialBlock inner) {
                out.addNamed(child.getKey(), rebuild(inner, prefix + child.getKey() + "/", shapes[0], last, added));
            } else {
                out.addNamed(child.getKey(), c);
                if (c instanceof Linear && c != last) {
                    int axis = next[0].dimension() - 1;
                    String name = child.getKey() + "LayerNorm";
                    out.addNamed(name, LayerNorm.builder().axis(axis).build());
                    added.add(prefix + name);
                }
            }
            shapes = next;
        }
        return out;
    }

    static int linears(Block b) {
        int n = b instanceof Linear ? 1 : 0;
        for (Pair<String, Block> c : b.getChildren()) {
            n += linears(c.getValue());
        }
        return n;
    }

    private static Linear lastLinear(Block b) {
        Linear found = b instanceof Linear l ? l : null;
        for (Pair<String, Block> c : b.getChildren()) {
            Linear inner = lastLinear(c.getValue());
            found = inner != null ? inner : found;
        }
        return found;
    }
}
