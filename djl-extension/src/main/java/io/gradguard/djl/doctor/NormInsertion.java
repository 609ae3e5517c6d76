package io.gradguard.djl.doctor;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.util.Pair;
import java.util.List;

/**
 * What the normalization fixes share: rebuild every {@link SequentialBlock} of the tree with the same child instances
 * under their old names (so every existing parameter keeps its name), adding a new block, named
 * {@code <child><suffix>}, right after each child the fix follows, except the model's last Linear (its output layer).
 */
abstract class NormInsertion implements StructureFix {

    /** @return the suffix of an inserted block's name, e.g. {@code LayerNorm} */
    abstract String suffix();

    /**
     * @param child a leaf child of a sequence
     * @return true when a normalization goes right after it
     */
    abstract boolean follows(Block child);

    /**
     * @param child the child it follows
     * @param out the child's output shape
     * @return the new normalization block
     */
    abstract Block norm(Block child, Shape out);

    /** @return what the fix needs, for the error of a block it cannot act on */
    abstract String needs();

    /**
     * @param block the root
     * @return how many children the fix would follow in the tree
     */
    abstract int targets(Block block);

    @Override
    public FixResult apply(Block block, FixContext context) {
        if (!(block instanceof SequentialBlock seq) || targets(block) < 2) {
            throw new IllegalArgumentException(name() + ": needs a SequentialBlock root holding " + needs() + ", got "
                    + block.getClass().getSimpleName() + " with " + targets(block));
        }
        Linear last = BlockTree.lastLinear(block);
        List<String> added = new java.util.ArrayList<>();
        Block fixed = rebuild(seq, "", context.inputShape(), last, added);
        return new FixResult(name(), fixed, List.of(), List.copyOf(added), true, "inserted " + added.size() + " "
                + suffix() + " block" + (added.size() == 1 ? "" : "s") + " after " + needs().replaceFirst("^2 or more ", ""));
    }

    private SequentialBlock rebuild(SequentialBlock seq, String prefix, Shape in, Linear last, List<String> added) {
        NamedSequentialBlock out = new NamedSequentialBlock();
        Shape[] shapes = {in};
        for (Pair<String, Block> child : seq.getChildren()) {
            Block c = child.getValue();
            Shape[] next = c.getOutputShapes(shapes);
            if (c instanceof SequentialBlock inner) {
                out.addNamed(child.getKey(), rebuild(inner, prefix + child.getKey() + "/", shapes[0], last, added));
            } else {
                out.addNamed(child.getKey(), c);
                if (follows(c) && c != last) {
                    String name = child.getKey() + suffix();
                    out.addNamed(name, norm(c, next[0]));
                    added.add(prefix + name);
                }
            }
            shapes = next;
        }
        return out;
    }
}
