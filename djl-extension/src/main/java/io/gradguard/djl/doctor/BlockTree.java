package io.gradguard.djl.doctor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.util.Pair;
import java.util.function.Predicate;

/**
 * What the structure fixes ask of a block tree: counts, the output layer, a layer's own weight, scaling it in place.
 */
final class BlockTree {

    private static final NDIndex ALL = new NDIndex("...");

    private BlockTree() {}

    /**
     * @param b the root
     * @param which the blocks to count
     * @return how many blocks of the tree (the root included) match
     */
    static int count(Block b, Predicate<Block> which) {
        int n = which.test(b) ? 1 : 0;
        for (Pair<String, Block> c : b.getChildren()) {
            n += count(c.getValue(), which);
        }
        return n;
    }

    /**
     * @param b the root
     * @return the last {@link Linear} of the tree in model order (the output layer), or null
     */
    static Linear lastLinear(Block b) {
        Linear found = b instanceof Linear l ? l : null;
        for (Pair<String, Block> c : b.getChildren()) {
            Linear inner = lastLinear(c.getValue());
            found = inner != null ? inner : found;
        }
        return found;
    }

    /**
     * @param b a block
     * @return its own (direct) initialized weight parameter, or null; a Linear or a convolution has one
     */
    static Parameter ownWeight(Block b) {
        for (Pair<String, Parameter> p : b.getDirectParameters()) {
            if (p.getValue().getType() == Parameter.Type.WEIGHT && p.getValue().isInitialized()) {
                return p.getValue();
            }
        }
        return null;
    }

    /**
     * Multiplies a parameter's values in place (the same array, so a trainer or store that holds it sees the change).
     *
     * @param p the parameter, initialized
     * @param factor the factor
     */
    static void scale(Parameter p, double factor) {
        NDArray a = p.getArray();
        try (NDArray scaled = a.mul(factor)) {
            a.set(ALL, scaled);
        }
    }
}
