package io.gradguard.djl.doctor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.util.Pair;
import io.gradguard.djl.doctor.FlowReport.Kind;
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

    private static final NDIndex ALL = new NDIndex("...");

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
                && report.has(Kind.ACTIVATIONS_GROW, Kind.ACTIVATIONS_SHRINK, Kind.GRADIENTS_GROW,
                        Kind.GRADIENTS_SHRINK, Kind.NON_FINITE)
                && units((SequentialBlock) block, null, NormInsertion.lastLinear(block)) >= 2;
    }

    @Override
    public FixResult apply(Block block, FixContext context) {
        Linear last = NormInsertion.lastLinear(block);
        if (!(block instanceof SequentialBlock seq) || units(seq, context.inputShape(), last) < 2) {
            throw new IllegalArgumentException("residual: needs a SequentialBlock root holding 2 or more hidden Linear"
                    + " layers whose output has the shape of their input, got " + block.getClass().getSimpleName());
        }
        int n = units(seq, context.inputShape(), last);
        float scale = (float) (1 / Math.sqrt(n));
        List<String> added = new ArrayList<>();
        List<String> changed = new ArrayList<>();
        Block fixed = rebuild(seq, "", context.inputShape(), last, scale, added, changed);
        return new FixResult(name(), fixed, List.copyOf(changed), List.copyOf(added), false, String.format(Locale.ROOT,
                "wrapped %d same-shape units in residual connections, their weights scaled by %.3g", added.size(), scale));
    }

    /** The units of a sequence (entering nested ones) whose output keeps the input's shape; any shape when null. */
    private static int units(SequentialBlock seq, Shape in, Linear last) {
        int n = 0;
        List<Pair<String, Block>> children = new ArrayList<>();
        seq.getChildren().forEach(children::add);
        Shape[] shapes = in == null ? null : new Shape[] {in};
        for (int i = 0; i < children.size(); i++) {
            Block c = children.get(i).getValue();
            if (c instanceof SequentialBlock inner) {
                n += units(inner, shapes == null ? null : shapes[0], last);
            } else if (c instanceof Linear && c != last) {
                int end = unitEnd(children, i);
                Shape[] out = shapes;
                for (int k = i; k < end && out != null; k++) {
                    out = children.get(k).getValue().getOutputShapes(out);
                }
                if (shapes == null ? sameWidth((Linear) c) : out[0].equals(shapes[0])) {
                    n++;
                }
            }
            shapes = shapes == null ? null : c.getOutputShapes(shapes);
        }
        return n;
    }

    /** Without shapes (the flow check's question): a Linear whose initialized weight is square. */
    private static boolean sameWidth(Linear l) {
        for (Pair<String, Parameter> p : l.getDirectParameters()) {
            if (p.getValue().getType() == Parameter.Type.WEIGHT && p.getValue().isInitialized()) {
                Shape s = p.getValue().getArray().getShape();
                return s.dimension() == 2 && s.get(0) == s.get(1);
            }
        }
        return false;
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

    private static SequentialBlock rebuild(SequentialBlock seq, String prefix, Shape in, Linear last, float scale,
            List<String> added, List<String> changed) {
        NamedSequentialBlock out = new NamedSequentialBlock();
        List<Pair<String, Block>> children = new ArrayList<>();
        seq.getChildren().forEach(children::add);
        Shape[] shapes = {in};
        int i = 0;
        while (i < children.size()) {
            Pair<String, Block> child = children.get(i);
            Block c = child.getValue();
            if (c instanceof SequentialBlock inner) {
                out.addNamed(child.getKey(), rebuild(inner, prefix + child.getKey() + "/", shapes[0], last, scale, added,
                        changed));
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
                    for (Pair<String, Parameter> p : l.getDirectParameters()) {
                        if (p.getValue().getType() == Parameter.Type.WEIGHT && p.getValue().isInitialized()) {
                            NDArray w = p.getValue().getArray();
                            try (NDArray scaled = w.mul(scale)) {
                                w.set(ALL, scaled);
                            }
                            changed.add(prefix + child.getKey() + "_" + p.getValue().getName());
                        }
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
