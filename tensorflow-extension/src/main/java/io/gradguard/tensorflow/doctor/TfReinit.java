package io.gradguard.tensorflow.doctor;

import io.gradguard.tensorflow.internal.DoctorGraphs;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/**
 * The structure doctor's initialization fix for a TensorFlow Java graph: assigns new, seeded values to
 * weight variables in the session (He for ReLU nets, Xavier for tanh/sigmoid, orthogonal for square
 * recurrent matrices). The graph keeps its variables, so names and shapes are kept by construction;
 * only the values change.
 *
 * <pre>{@code
 * ReinitReport r = TfReinit.apply(session, model.variables, InitScheme.HE, 42);   // biases are left alone
 * }</pre>
 *
 * <p>Variables of rank 2 or more are re-initialized; rank-0/1 variables (biases, scales) are left alone
 * and listed as skipped. The values are drawn in Java, from a {@link Random} seeded with the seed and the
 * variable's name, so a variable gets the same values whatever the order of the list. Float32 and
 * float64 variables. Run it before training: an optimizer's slots (momentum, Adam's moments) and a
 * {@code GuardedOptimizer}'s snapshot, once they hold state, hold it for the old values.
 */
public final class TfReinit {

    private TfReinit() {}

    /**
     * Re-initializes every weight (rank 2 or more) the loss depends on.
     *
     * @param session a session of the loss's graph
     * @param loss the loss
     * @param scheme the initialization
     * @param seed the seed
     * @return what changed
     * @throws IllegalArgumentException as {@link #apply(Session, List, InitScheme, long)}
     */
    public static ReinitReport apply(Session session, Operand<?> loss, InitScheme scheme, long seed) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(loss, "loss");
        return apply(session, DoctorGraphs.variablesOf(session.graph(), loss), scheme, seed);
    }

    /**
     * Re-initializes the given variables' weights.
     *
     * @param session a session of the variables' graph
     * @param variables graph variables; those of rank under 2 are left alone
     * @param scheme the initialization
     * @param seed the seed
     * @return what changed
     * @throws IllegalArgumentException naming the variable: not a floating-point (float32, float64) graph
     *     variable of static shape, not in the session's graph, or of rank other than 2 for {@link InitScheme#ORTHOGONAL}
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static ReinitReport apply(Session session, List<? extends Operand<?>> variables, InitScheme scheme, long seed) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(variables, "variables");
        Objects.requireNonNull(scheme, "scheme");
        Graph graph = session.graph();
        List<Output<?>> weights = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (int i = 0; i < variables.size(); i++) {
            String where = "variables[" + i + "]";
            Output<?> v = DoctorGraphs.requireVariable(variables.get(i), where);
            if (v.env() != graph) {
                throw new IllegalArgumentException(where + " '" + v.op().name() + "' is not in the session's graph");
            }
            if (v.type() != TFloat32.class && v.type() != TFloat64.class) {
                throw new IllegalArgumentException(where + " '" + v.op().name() + "' holds " + v.type().getSimpleName()
                        + "; TfReinit assigns float32 and float64 variables");
            }
            int rank = v.shape().numDimensions();
            if (rank < 2) {
                skipped.add(v.op().name() + " (rank " + rank + ": a bias or scale keeps its values)");
            } else if (scheme == InitScheme.ORTHOGONAL && rank != 2) {
                throw new IllegalArgumentException(where + " '" + v.op().name() + "' has shape " + v.shape()
                        + "; ORTHOGONAL takes rank-2 matrices only (use HE or XAVIER for kernels)");
            } else {
                weights.add(v);
            }
        }
        if (weights.isEmpty()) {
            return new ReinitReport(List.of(), skipped, seed);
        }
        double[][] old = read(session, weights);
        Ops tf = DoctorGraphs.freshScope(graph, "gradguard_doctor_reinit");
        Session.Runner runner = session.runner();
        List<Tensor> tensors = new ArrayList<>();
        List<VariableChange> changed = new ArrayList<>();
        try {
            for (Output<?> v : weights) {
                Shape shape = v.shape();
                double[] values = draw(scheme, shape, new Random(seed * 1_000_003L + v.op().name().hashCode()));
                Placeholder p = tf.placeholder((Class) v.type(), Placeholder.shape(shape));
                Op assign = tf.assign((Operand) v, p);
                Tensor t = v.type() == TFloat32.class ? TFloat32.tensorOf(shape, DataBuffers.of(toFloats(values)))
                        : TFloat64.tensorOf(shape, DataBuffers.of(values));
                tensors.add(t);
                runner.feed(p, t).addTarget(assign);
                changed.add(new VariableChange(v.op().name(), shape, scheme, std(old[changed.size()]),
                        std(v.type() == TFloat32.class ? fromFloats(toFloats(values)) : values)));
            }
            runner.run().close();
        } finally {
            tensors.forEach(Tensor::close);
        }
        return new ReinitReport(changed, skipped, seed);
    }

    /** Draws a kernel's values, row-major in TensorFlow's layout. */
    static double[] draw(InitScheme scheme, Shape shape, Random rng) {
        int rank = shape.numDimensions();
        long out = shape.get(rank - 1);
        long in = shape.get(rank - 2);
        long receptive = shape.size() / (in * out);
        long fanIn = in * receptive;
        long fanOut = out * receptive;
        int n = Math.toIntExact(shape.size());
        if (scheme == InitScheme.ORTHOGONAL) {
            return orthogonal((int) in, (int) out, rng);
        }
        double std = scheme.std(fanIn, fanOut);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = rng.nextGaussian() * std;
        }
        return v;
    }

    /** A rows x cols matrix (row-major) with orthonormal columns (rows >= cols) or rows (rows < cols). */
    static double[] orthogonal(int rows, int cols, Random rng) {
        int len = Math.max(rows, cols);
        int k = Math.min(rows, cols);
        double[][] q = new double[k][len];
        for (int j = 0; j < k; j++) {
            double norm;
            do {
                for (int i = 0; i < len; i++) {
                    q[j][i] = rng.nextGaussian();
                }
                for (int p = 0; p < j; p++) {
                    double dot = 0;
                    for (int i = 0; i < len; i++) {
                        dot += q[p][i] * q[j][i];
                    }
                    for (int i = 0; i < len; i++) {
                        q[j][i] -= dot * q[p][i];
                    }
                }
                norm = 0;
                for (int i = 0; i < len; i++) {
                    norm += q[j][i] * q[j][i];
                }
                norm = Math.sqrt(norm);
            } while (norm < 1e-6);
            for (int i = 0; i < len; i++) {
                q[j][i] /= norm;
            }
        }
        double[] w = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                w[r * cols + c] = rows >= cols ? q[c][r] : q[r][c];
            }
        }
        return w;
    }

    private static double[][] read(Session session, List<Output<?>> vars) {
        Session.Runner r = session.runner();
        vars.forEach(r::fetch);
        try (Result res = r.run()) {
            double[][] out = new double[vars.size()][];
            for (int i = 0; i < vars.size(); i++) {
                Tensor t = res.get(i);
                out[i] = new double[(int) t.size()];
                if (t instanceof TFloat32) {
                    float[] f = new float[out[i].length];
                    t.asRawTensor().data().asFloats().read(f);
                    out[i] = fromFloats(f);
                } else {
                    t.asRawTensor().data().asDoubles().read(out[i]);
                }
            }
            return out;
        }
    }

    static double std(double[] x) {
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        double ss = 0;
        for (double v : x) {
            ss += (v - mean) * (v - mean);
        }
        return Math.sqrt(ss / x.length);
    }

    private static float[] toFloats(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }

    private static double[] fromFloats(float[] f) {
        double[] x = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            x[i] = f[i];
        }
        return x;
    }
}
