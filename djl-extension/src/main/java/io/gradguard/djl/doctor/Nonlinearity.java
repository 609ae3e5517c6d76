package io.gradguard.djl.doctor;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.recurrent.RecurrentBlock;
import ai.djl.util.Pair;

/**
 * Which nonlinearity a model uses, found by probing: DJL's activations are parameterless {@link LambdaBlock}s (often
 * from a method reference) with no readable kind, so each one is run on a few known values and compared with ReLU,
 * tanh and sigmoid. Recurrent blocks count as tanh (DJL's RNN default, GRU and LSTM cells).
 */
enum Nonlinearity {
    /** ReLU and its family (leaky ReLU, GELU, SiLU, ELU): zero or small for negative inputs, identity-like above. */
    RELU,
    /** tanh or sigmoid: saturating. */
    SATURATING,
    /** None found. */
    UNKNOWN;

    private static final float[] PROBE = {-2f, -0.5f, 0.5f, 2f};

    /**
     * @param root the model
     * @param manager where the probe values live
     * @return the first nonlinearity met in model order
     */
    static Nonlinearity of(Block root, NDManager manager) {
        if (root instanceof RecurrentBlock) {
            return SATURATING;
        }
        if (root instanceof LambdaBlock lambda && root.getParameters().isEmpty()) {
            Nonlinearity n = probe(lambda, manager);
            if (n != UNKNOWN) {
                return n;
            }
        }
        for (Pair<String, Block> child : root.getChildren()) {
            Nonlinearity n = of(child.getValue(), manager);
            if (n != UNKNOWN) {
                return n;
            }
        }
        return UNKNOWN;
    }

    private static Nonlinearity probe(LambdaBlock block, NDManager manager) {
        try (NDManager scope = manager.newSubManager()) {
            NDList out = block.forward(null, new NDList(scope.create(PROBE, new Shape(1, PROBE.length))), false);
            float[] y = out.head().toFloatArray();
            if (y.length != PROBE.length) {
                return UNKNOWN;
            }
            if (Math.abs(y[3] - 2f) < 0.1f && y[0] <= 0.01f && y[0] > -0.5f) {
                return RELU;
            }
            boolean tanh = Math.abs(y[3] - Math.tanh(2)) < 1e-3 && Math.abs(y[0] + Math.tanh(2)) < 1e-3;
            boolean sigmoid = Math.abs(y[3] - 1 / (1 + Math.exp(-2))) < 1e-3 && Math.abs(y[0] - 1 / (1 + Math.exp(2))) < 1e-3;
            return tanh || sigmoid ? SATURATING : UNKNOWN;
        } catch (RuntimeException e) {
            return UNKNOWN; // not an element-wise function of one array (an indexing lambda, say)
        }
    }
}
