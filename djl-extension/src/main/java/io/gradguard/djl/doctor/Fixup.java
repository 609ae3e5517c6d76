package io.gradguard.djl.doctor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Block;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.gradguard.djl.doctor.FlowReport.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * Fixup-style re-initialization of residual branches (Zhang, Dauphin and Ma 2019), in place: the last weight of each
 * residual branch is set to zero ({@link #zeroInit()}), so every residual block starts as the identity and the
 * signal neither grows nor shrinks with depth, or scaled by {@code 1/sqrt(2 L)} with {@code L} the number of branches
 * ({@link #scaled()}), so the branches' added variance stays bounded over the depth. Names, shapes and the block tree
 * are unchanged.
 *
 * <p>A residual branch is a child with weights of a {@link ParallelBlock} that also holds a child without parameters
 * (the skip: an identity or another parameterless function), anywhere in the tree; its last weight is its last
 * parameter of type {@code WEIGHT} with two or more axes, in model order. Residual connections written inside a custom
 * block's {@code forward} cannot be seen and are left alone.
 */
public final class Fixup implements StructureFix {

    private static final NDIndex ALL = new NDIndex("...");

    private final boolean zero;

    private Fixup(boolean zero) {
        this.zero = zero;
    }

    /** @return the fix that zero-initializes the last weight of each residual branch */
    public static Fixup zeroInit() {
        return new Fixup(true);
    }

    /** @return the fix that scales the last weight of each residual branch by {@code 1/sqrt(2 x branches)} */
    public static Fixup scaled() {
        return new Fixup(false);
    }

    /** @return true: this fix only sets parameter values (the structure and every name stay) */
    @Override
    public boolean reinitializes() {
        return true;
    }

    @Override
    public String name() {
        return zero ? "fixup-zero" : "fixup-scaled";
    }

    @Override
    public String prescription() {
        return zero ? "zero-initialize the last layer of each residual branch (Fixup): the blocks start as the identity"
                : "scale the last layer of each residual branch by 1/sqrt(2 x number of residual branches) at"
                        + " initialization";
    }

    /** Applies when the model has residual branches and the activations or the backward signal grow with depth. */
    @Override
    public boolean appliesTo(Block block, FlowReport report) {
        return !lastWeights(block).isEmpty() && report.has(Kind.ACTIVATIONS_GROW, Kind.GRADIENTS_GROW, Kind.NON_FINITE);
    }

    @Override
    public FixResult apply(Block block, FixContext context) {
        List<Pair<String, Parameter>> targets = lastWeights(block);
        if (targets.isEmpty()) {
            throw new IllegalArgumentException(name() + ": needs a ParallelBlock holding a parameterless skip and a"
                    + " branch with an initialized weight of two or more axes, found none in "
                    + block.getClass().getSimpleName());
        }
        double factor = zero ? 0 : 1 / Math.sqrt(2.0 * targets.size());
        List<String> changed = new ArrayList<>();
        for (Pair<String, Parameter> p : targets) {
            NDArray w = p.getValue().getArray();
            try (NDArray v = w.mul(factor)) {
                w.set(ALL, v);
            }
            changed.add(p.getKey());
        }
        return new FixResult(name(), block, List.copyOf(changed), List.of(), true, String.format(java.util.Locale.ROOT,
                "%s the last weight of %d residual branch%s", zero ? "zeroed" : "scaled by " + (float) factor,
                changed.size(), changed.size() == 1 ? "" : "es"));
    }

    /** The last weight of every residual branch, named as {@code block.getParameters()} names it, in model order. */
    static List<Pair<String, Parameter>> lastWeights(Block root) {
        List<Parameter> last = new ArrayList<>();
        collect(root, last);
        List<Pair<String, Parameter>> out = new ArrayList<>();
        for (Pair<String, Parameter> p : root.getParameters()) {
            if (last.contains(p.getValue())) {
                out.add(p);
            }
        }
        return out;
    }

    private static void collect(Block b, List<Parameter> out) {
        if (b instanceof ParallelBlock) {
            boolean skip = b.getChildren().values().stream().anyMatch(c -> c.getParameters().isEmpty());
            for (Pair<String, Block> c : b.getChildren()) {
                Parameter w = skip ? lastWeight(c.getValue()) : null;
                if (w != null) {
                    out.add(w);
                }
            }
        }
        for (Pair<String, Block> c : b.getChildren()) {
            collect(c.getValue(), out);
        }
    }

    private static Parameter lastWeight(Block branch) {
        Parameter found = null;
        for (Pair<String, Parameter> p : branch.getParameters()) {
            Parameter v = p.getValue();
            if (v.getType() == Parameter.Type.WEIGHT && v.isInitialized() && v.getArray().getShape().dimension() >= 2) {
                found = v;
            }
        }
        return found;
    }
}
