package io.gradguard.djl.doctor;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Wraps the runs of same-shape layers of a plain deep net in residual connections: in every {@link SequentialBlock}
 * of the tree, a <em>unit</em> is a {@link Linear} (not the model's output layer) with the parameter-free children
 * that follow it (its activation, a dropout) up to the next child with parameters; each unit whose output has the
 * shape of its input becomes {@code x + unit(x)} (a {@link ParallelBlock} of an identity and the unit, the form the
 * {@link Fixup} fix and DJL's ResNet use), when the sequence holds at least two such units.
 *
 * <p>A sum of {@code n} branches each as large as its input grows the signal {@code 2^n}-fold, so the weight of each
 * wrapped unit is scaled by {@code 1/sqrt(n)} (depth-scaled initialization; with it the signal grows about
 * {@code e}-fold over the whole run of units): those weights are listed as changed.
 *
 * <p><b>Names change</b> ({@link FixResult#namesKept()} is false): a wrapped unit's parameters move under the new
 * block, e.g. {@code 03Linear_weight} becomes {@code 03Residual_02SequentialBlock_01Linear_weight}. Shapes are kept.
 */
public final class WrapResidual implements StructureFix {

    /** The fix. */
    public WrapResidual() {}

    @Override
    public String name() {
        return "residual";
    }

    @Override
    public String prescription() {
        return "wrap each hidden same-width Linear (with its activation) in a residual connection, x + f(x):"
                + " new ParallelBlock(l -> sum, List.of(Blocks.identityBlock(), unit)), its weight scaled by"
                + " 1/sqrt(units)";
    }

    /**
     * Applies to a plain sequence (no residual connection yet) with two or more same-shape units, when the flow
     * check found gradients or activations that compound with depth.
     */
    @Override
    public boolean appliesTo(Block block, FlowReport report) {
        return block instanceof SequentialBlock && !hasResidual(block) && report.layers().size() >= 3
                && report.depthTrouble()
                && units((SequentialBlock) block, BlockTree.lastLinear(block)) >= 2;
    }

    @Override
    public FixResult apply(Block block, FixContext context) {
        List<String> added = new ArrayList<>();
        List<Pair<String, Parameter>> wrapped = new ArrayList<>();
        Block fixed = block instanceof SequentialBlock seq
                ? rebuild(seq, "", context.inputShape(), BlockTree.lastLinear(block), added, wrapped) : null;
        if (wrapped.size() < 2) {
            // the block passed in is untouched: the rebuilt sequences hold its children, they do not change them
            throw new IllegalArgumentException("residual: needs a SequentialBlock root holding 2 or more hidden Linear"
                    + " layers whose output has the shape of their input, got " + block.getClass().getSimpleName());
        }
        float scale = (float) (1 / Math.sqrt(wrapped.size()));
        List<String> changed = new ArrayList<>();
        for (Pair<String, Parameter> w : wrapped) {
            BlockTree.scale(w.getValue(), scale);
            changed.add(w.getKey());
        }
        return new FixResult(name(), fixed, List.copyOf(changed), List.copyOf(added), false, String.format(Locale.ROOT,
                "wrapped %d same-shape units in residual connections, their weights scaled by %.3g", added.size(), scale));
    }

    /**
     * The flow check's question, without shapes: the hidden Linear layers of the sequences (entering nested ones)
     * whose initialized weight is square.
     */
    private static int units(SequentialBlock seq, Linear last) {
        int n = 0;
        for (Pair<String, Block> child : seq.getChildren()) {
            Block c = child.getValue();
            if (c instanceof SequentialBlock inner) {
                n += units(inner, last);
            } else if (c instanceof Linear && c != last) {
                Parameter w = BlockTree.ownWeight(c);
                Shape s = w == null ? null : w.getArray().getShape();
                n += s != null && s.dimension() == 2 && s.get(0) == s.get(1) ? 1 : 0;
            }
        }
        return n;
    }

    /** The index after a unit that starts at {@code i}: the next child with parameters, or the end. */
    private static int unitEnd(List<Pair<String, Block>> children, int i) {
        int end = i + 1;
        while (end < children.size() && children.get(end).getValue().getParameters().isEmpty()
                && !(children.get(end).getValue() instanceof SequentialBlock)) {
            end++;
        }
        return end;
    }

    /**
     * The sequence with each same-shape unit wrapped; the wrapped Linears' weights, with their names as they were, go
     * to {@code wrapped} (scaled by the caller, once their number is known).
     */
    private static SequentialBlock rebuild(SequentialBlock seq, String prefix, Shape in, Linear last, List<String> added,
            List<Pair<String, Parameter>> wrapped) {
        NamedSequentialBlock out = new NamedSequentialBlock();
        List<Pair<String, Block>> children = new ArrayList<>();
        seq.getChildren().forEach(children::add);
        Shape[] shapes = {in};
        int i = 0;
        while (i < children.size()) {
            Pair<String, Block> child = children.get(i);
            Block c = child.getValue();
            if (c instanceof SequentialBlock inner) {
                out.addNamed(child.getKey(), rebuild(inner, prefix + child.getKey() + "/", shapes[0], last, added,
                        wrapped));
                shapes = c.getOutputShapes(shapes);
                i++;
                continue;
            }
            if (c instanceof Linear l && c != last) {
                int end = unitEnd(children, i);
                Shape[] after = shapes;
                for (int k = i; k < end; k++) {
                    after = children.get(k).getValue().getOutputShapes(after);
                }
                if (after[0].equals(shapes[0])) {
                    SequentialBlock unit = new SequentialBlock();
                    for (int k = i; k < end; k++) {
                        unit.add(children.get(k).getValue());
                    }
                    Parameter w = BlockTree.ownWeight(l);
                    if (w != null) {
                        wrapped.add(new Pair<>(prefix + child.getKey() + "_" + w.getName(), w));
                    }
                    String name = child.getKey().replace("Linear", "") + "Residual";
                    out.addNamed(name, new ParallelBlock(
                            list -> new NDList(list.get(0).singletonOrThrow().add(list.get(1).singletonOrThrow())),
                            List.of(Blocks.identityBlock(), unit)));
                    added.add(prefix + name);
                    shapes = after;
                    i = end;
                    continue;
                }
            }
            out.addNamed(child.getKey(), c);
            shapes = c.getOutputShapes(shapes);
            i++;
        }
        return out;
    }

    private static boolean hasResidual(Block b) {
        if (b instanceof ParallelBlock) {
            return true;
        }
        for (Pair<String, Block> c : b.getChildren()) {
            if (hasResidual(c.getValue())) {
                return true;
            }
        }
        return false;
    }
}
