package io.gradguard.tensorflow.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;
import org.tensorflow.types.family.TType;

/**
 * The ops of the doctor's gradient-flow check, added to the user's graph once per check: the gradients
 * of the loss with respect to the variables and to each weight's layer output (the backpropagated
 * signal), and float64 sums of squares of those and of the variables. No variable is created and none
 * is assigned: running them applies no update.
 */
public final class FlowGraph {

    private final List<String> names;
    private final boolean[] hasGradient;
    private final int[] signalIndex;
    private final int signals;
    private final Output<TFloat64> gradSquares;
    private final Output<TFloat64> weightSquares;

    private FlowGraph(List<String> names, boolean[] hasGradient, int[] signalIndex, int signals,
            Output<TFloat64> gradSquares, Output<TFloat64> weightSquares) {
        this.names = names;
        this.hasGradient = hasGradient;
        this.signalIndex = signalIndex;
        this.signals = signals;
        this.gradSquares = gradSquares;
        this.weightSquares = weightSquares;
    }

    /**
     * Builds the check's ops.
     *
     * @param graph the graph
     * @param loss the loss, floating point
     * @param variables the variables (checked by the caller), in the order of the report
     * @return the ops
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static FlowGraph build(Graph graph, Operand<?> loss, List<Output<?>> variables) {
        Set<String> upstream = DoctorGraphs.upstream(loss);
        int n = variables.size();
        int[] signalIndex = new int[n];
        List<Output<?>> xs = new ArrayList<>(variables);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Output<?> v = variables.get(i);
            names.add(v.op().name());
            Output<?> layer = v.shape().numDimensions() >= 2 ? DoctorGraphs.layerOutput(v, upstream) : null;
            if (layer != null && TFloating.class.isAssignableFrom(layer.type())) {
                signalIndex[i] = xs.size() - n;
                xs.add(layer);
            } else {
                signalIndex[i] = -1;
            }
        }
        Output<?>[] grads = graph.addGradients(loss.asOutput(), xs.toArray(new Output<?>[0]));
        Ops tf = DoctorGraphs.freshScope(graph, "gradguard_doctor_flow");
        List<Operand<TFloat64>> gs = new ArrayList<>();
        boolean[] hasGradient = new boolean[xs.size()];
        for (int i = 0; i < xs.size(); i++) {
            Output g = grads == null ? null : grads[i];
            hasGradient[i] = g != null;
            gs.add(g == null ? tf.constant(0.0) : sumSquares(tf, g));
        }
        List<Operand<TFloat64>> ws = new ArrayList<>();
        for (Output<?> v : variables) {
            ws.add(sumSquares(tf, (Output) v));
        }
        Output<TFloat64> gradSquares = tf.withName("grad_squares").stack(gs).asOutput();
        Output<TFloat64> weightSquares = tf.withName("weight_squares").stack(ws).asOutput();
        return new FlowGraph(names, hasGradient, signalIndex, xs.size() - n, gradSquares, weightSquares);
    }

    private static Operand<TFloat64> sumSquares(Ops tf, Operand<? extends TType> x) {
        Operand<TFloat64> x64 = tf.dtypes.cast(x, TFloat64.class);
        Operand<TInt32> axes = tf.range(tf.constant(0), tf.rank(x64), tf.constant(1));
        return tf.reduceSum(tf.math.square(x64), axes);
    }

    /** @return the variables' names, in order */
    public List<String> names() {
        return names;
    }

    /**
     * @param i a variable's index
     * @return true when the loss has a gradient with respect to it
     */
    public boolean hasGradient(int i) {
        return hasGradient[i];
    }

    /**
     * @param i a variable's index
     * @return the index of its layer output's sum of squares among the signals, or -1 when it has none
     */
    public int signalIndex(int i) {
        return signalIndex[i];
    }

    /** @return how many variables have a layer output (signal) */
    public int signals() {
        return signals;
    }

    /**
     * One run: fetches the sums of squares (gradients, then signals; and the weights when asked).
     *
     * @param session the session
     * @param feed adds the batch's feeds to the runner
     * @param weights also fetch the weights' sums of squares
     * @return {@code [gradient and signal squares]} and, when asked, {@code [weight squares]}
     */
    public double[][] run(Session session, java.util.function.UnaryOperator<Session.Runner> feed, boolean weights) {
        Session.Runner r = session.runner().fetch(gradSquares);
        if (weights) {
            r.fetch(weightSquares);
        }
        r = feed.apply(r);
        try (Result res = r.run()) {
            double[][] out = new double[weights ? 2 : 1][];
            for (int k = 0; k < out.length; k++) {
                TFloat64 t = (TFloat64) res.get(k);
                out[k] = new double[(int) t.size()];
                t.asRawTensor().data().asDoubles().read(out[k]);
            }
            return out;
        }
    }
}
