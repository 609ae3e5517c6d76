package io.gradguard.djl.doctor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;

/**
 * Re-initializes weights in place (names, shapes and the block tree unchanged):
 * <ul>
 *   <li>{@link #he()}: He (Kaiming) normal, fan-in, {@code N(0, 2/fanIn)}, for ReLU-family networks: every weight
 *       with two or more axes except recurrent hidden-to-hidden ones;</li>
 *   <li>{@link #xavier()}: Xavier (Glorot) normal {@code N(0, 2/(fanIn+fanOut))} for tanh/sigmoid networks, the
 *       same weights;</li>
 *   <li>{@link #orthogonalRecurrent()}: a random orthogonal matrix for each gate's block of every recurrent
 *       hidden-to-hidden weight (DJL names them {@code h2h}), so that backpropagation through time neither grows
 *       nor shrinks the signal at initialization.</li>
 * </ul>
 * {@code fanIn} is the product of a weight's axes after the first (DJL stores {@code (out, in, kernel...)}), and
 * {@code fanOut} the first axis times the kernel axes. Random values come from the engine's seeded generator.
 */
public final class ReInitialize implements StructureFix {

    private enum Scheme { HE, XAVIER, ORTHOGONAL }

    private static final NDIndex ALL = new NDIndex("...");

    private final Scheme scheme;

    private ReInitialize(Scheme scheme) {
        this.scheme = scheme;
    }

    /** @return He (Kaiming) normal fan-in re-initialization, for ReLU-family networks */
    public static ReInitialize he() {
        return new ReInitialize(Scheme.HE);
    }

    /** @return Xavier (Glorot) normal re-initialization, for tanh/sigmoid networks */
    public static ReInitialize xavier() {
        return new ReInitialize(Scheme.XAVIER);
    }

    /** @return orthogonal re-initialization of recurrent hidden-to-hidden weights */
    public static ReInitialize orthogonalRecurrent() {
        return new ReInitialize(Scheme.ORTHOGONAL);
    }

    /** @return true: this fix only sets parameter values (the structure and every name stay) */
    @Override
    public boolean reinitializes() {
        return true;
    }

    @Override
    public String name() {
        return switch (scheme) {
            case HE -> "he-init";
            case XAVIER -> "xavier-init";
            case ORTHOGONAL -> "orthogonal-recurrent-init";
        };
    }

    @Override
    public String prescription() {
        return switch (scheme) {
            case HE -> "re-initialize the Linear/conv weights with He normal (Kaiming, fan-in): N(0, 2/fan_in)";
            case XAVIER -> "re-initialize the Linear/conv weights with Xavier normal: N(0, 2/(fan_in+fan_out))";
            case ORTHOGONAL -> "re-initialize the recurrent hidden-to-hidden weights (h2h) orthogonally";
        };
    }

    /**
     * He and Xavier apply when the activations or the backward signal leave their range with depth and the probed
     * nonlinearity fits (ReLU family for He, also when none is found; tanh/sigmoid for Xavier); the orthogonal one
     * applies whenever the model has a recurrent hidden-to-hidden weight (the check does not measure the signal
     * through time).
     */
    @Override
    public boolean appliesTo(Block block, FlowReport report) {
        if (targets(block).isEmpty()) {
            return false;
        }
        if (scheme == Scheme.ORTHOGONAL) {
            return true;
        }
        if (!report.depthTrouble()) {
            return false;
        }
        Nonlinearity n = nonlinearity(block);
        return scheme == Scheme.HE ? n != Nonlinearity.SATURATING : n == Nonlinearity.SATURATING;
    }

    private static Nonlinearity nonlinearity(Block block) {
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (p.getValue().isInitialized()) {
                return Nonlinearity.of(block, p.getValue().getArray().getManager());
            }
        }
        return Nonlinearity.UNKNOWN;
    }

    @Override
    public FixResult apply(Block block, FixContext context) {
        List<Pair<String, Parameter>> targets = targets(block);
        if (targets.isEmpty()) {
            throw new IllegalArgumentException(name() + ": the block has no initialized " + (scheme == Scheme.ORTHOGONAL
                    ? "recurrent hidden-to-hidden weight (a parameter named *h2h* with two axes)"
                    : "weight with two or more axes") + " to re-initialize");
        }
        List<String> changed = new ArrayList<>();
        for (Pair<String, Parameter> p : targets) {
            NDArray w = p.getValue().getArray();
            long[] s = w.getShape().getShape();
            long kernel = 1;
            for (int i = 2; i < s.length; i++) {
                kernel *= s[i];
            }
            long fanIn = s[1] * kernel;
            long fanOut = s[0] * kernel;
            try (NDArray v = scheme == Scheme.ORTHOGONAL ? orthogonal(context, w.getShape())
                    : context.manager().randomNormal(0f, (float) Math.sqrt(scheme == Scheme.HE ? 2.0 / fanIn
                            : 2.0 / (fanIn + fanOut)), w.getShape(), w.getDataType(), w.getDevice())) {
                w.set(ALL, v.toType(w.getDataType(), false));
            }
            changed.add(p.getKey());
        }
        return new FixResult(name(), block, List.copyOf(changed), List.of(), true,
                prescription() + ": " + changed.size() + " weight" + (changed.size() == 1 ? "" : "s"));
    }

    private List<Pair<String, Parameter>> targets(Block block) {
        List<Pair<String, Parameter>> out = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            Parameter param = p.getValue();
            boolean recurrent = p.getKey().contains("h2h");
            if (param.getType() == Parameter.Type.WEIGHT && param.isInitialized()
                    && param.getArray().getShape().dimension() >= 2
                    && (scheme == Scheme.ORTHOGONAL) == recurrent) {
                out.add(p);
            }
        }
        return out;
    }

    /** Row blocks of size {@code cols} (one per gate), each an orthogonal matrix from Gram-Schmidt on Gaussians. */
    private static NDArray orthogonal(FixContext context, Shape shape) {
        int rows = (int) shape.get(0);
        int cols = (int) shape.get(1);
        float[] g;
        try (NDArray r = context.manager().randomNormal(new Shape(rows, cols))) {
            g = r.toFloatArray();
        }
        double[] out = new double[rows * cols];
        for (int start = 0; start < rows; start += cols) {
            int n = Math.min(cols, rows - start);
            for (int i = 0; i < n; i++) {
                double[] v = new double[cols];
                for (int c = 0; c < cols; c++) {
                    v[c] = g[(start + i) * cols + c];
                }
                for (int j = 0; j < i; j++) {
                    double dot = 0;
                    for (int c = 0; c < cols; c++) {
                        dot += v[c] * out[(start + j) * cols + c];
                    }
                    for (int c = 0; c < cols; c++) {
                        v[c] -= dot * out[(start + j) * cols + c];
                    }
                }
                double norm = 0;
                for (double x : v) {
                    norm += x * x;
                }
                norm = Math.sqrt(norm);
                for (int c = 0; c < cols; c++) {
                    out[(start + i) * cols + c] = v[c] / norm;
                }
            }
        }
        float[] f = new float[out.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) out[i];
        }
        return context.manager().create(f, shape);
    }
}
