package io.gradguard.tensorflow.doctor;

import io.gradguard.tensorflow.internal.DoctorGraphs;
import io.gradguard.tensorflow.internal.FlowGraph;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.types.family.TFloating;

/**
 * The structure doctor's gradient-flow check for a TensorFlow Java graph, at initialization: per
 * variable the gradient norm, the weight norm, their ratio and the update-to-weight ratio the learning
 * rate would give, and the gradient's trend with depth; no update is applied.
 *
 * <pre>{@code
 * FlowReport r = TfFlowCheck.ofLearningRate(0.01).check(session, loss,
 *         List.of(runner -> runner.feed(x, xs).feed(y, ys)));
 * System.out.print(r.text());
 * }</pre>
 *
 * <p>It adds ops to the graph (the gradients, under a {@code gradguard_doctor_flow_N} scope) but no
 * variable, so a {@code GuardedOptimizer} or an optimizer built afterwards sees the same variables.
 *
 * <p><b>Thresholds</b> (defaults not tuned yet: chosen from first principles and the tests' two healthy
 * nets, not from the generated family). A weight is out of range when its gradient or value is not
 * finite, when the loss has no gradient for it, when it is all zero, or when its update-to-weight ratio
 * {@code lr * |g| / |w|} is above {@link #DEFAULT_MAX_UPDATE_RATIO} (one step would move it by more than
 * a tenth of its norm) or below {@link #DEFAULT_MIN_UPDATE_RATIO} (it would practically not move). The
 * trend is out of range when the gradient grows by more than {@link #DEFAULT_MAX_GROWTH} or less than
 * {@link #DEFAULT_MIN_GROWTH} per layer on its way back to the input (see {@link FlowReport}). Biases
 * and other rank-0/1 variables are reported, judged only for non-finite values.
 *
 * <p>The update ratio is exact for one plain gradient-descent step and for momentum's first step.
 * For Adam and RMSProp it is not: their step is normalized per element, about {@code lr} on every
 * element at first, which {@link VariableFlow#signUpdateRatio()} reports instead.
 */
public final class TfFlowCheck {

    /** Default upper bound of {@code lr * |g| / |w|} for a weight. */
    public static final double DEFAULT_MAX_UPDATE_RATIO = 0.1;
    /** Default lower bound of {@code lr * |g| / |w|} for a weight. */
    public static final double DEFAULT_MIN_UPDATE_RATIO = 1e-7;
    /** Default upper bound of the gradient's growth per layer towards the input. */
    public static final double DEFAULT_MAX_GROWTH = 1.5;
    /** Default lower bound of the gradient's growth per layer towards the input. */
    public static final double DEFAULT_MIN_GROWTH = 1 / 1.5;

    private final double learningRate;
    private final double maxUpdateRatio;
    private final double minUpdateRatio;
    private final double maxGrowth;
    private final double minGrowth;

    private TfFlowCheck(Builder b) {
        this.learningRate = b.learningRate;
        this.maxUpdateRatio = b.maxUpdateRatio;
        this.minUpdateRatio = b.minUpdateRatio;
        this.maxGrowth = b.maxGrowth;
        this.minGrowth = b.minGrowth;
    }

    /**
     * A check with the default thresholds.
     *
     * @param learningRate the learning rate the user trains with, finite and &gt; 0
     * @return the check
     * @throws IllegalArgumentException when the learning rate is out of range
     */
    public static TfFlowCheck ofLearningRate(double learningRate) {
        return custom().learningRate(learningRate).build();
    }

    /** @return a builder with the default thresholds and no learning rate yet */
    public static Builder custom() {
        return new Builder();
    }

    /** @return the learning rate the update ratios are for */
    public double learningRate() {
        return learningRate;
    }

    /** @return the upper bound of a weight's {@code lr * |g| / |w|} */
    public double maxUpdateRatio() {
        return maxUpdateRatio;
    }

    /** @return the lower bound of a weight's {@code lr * |g| / |w|} */
    public double minUpdateRatio() {
        return minUpdateRatio;
    }

    /** @return the upper bound of the gradient's growth per layer towards the input */
    public double maxGrowth() {
        return maxGrowth;
    }

    /** @return the lower bound of the gradient's growth per layer towards the input */
    public double minGrowth() {
        return minGrowth;
    }

    /**
     * Checks every variable the loss depends on, in creation order.
     *
     * @param session a session of the loss's graph (its initializers run on the first run, as usual)
     * @param loss the loss, floating point (a non-scalar loss is summed, as TensorFlow's gradients do)
     * @param batches one or a few batches; the norms are the root mean square over them
     * @return the report
     * @throws IllegalArgumentException when the loss is not floating point, depends on no variable, or no batch is given
     */
    public FlowReport check(Session session, Operand<?> loss, List<BatchFeed> batches) {
        Objects.requireNonNull(loss, "loss");
        List<Output<?>> vars = DoctorGraphs.variablesOf(graphOf(session, loss), loss);
        if (vars.isEmpty()) {
            throw new IllegalArgumentException("loss '" + loss.op().name() + "' depends on no graph variable; expected"
                    + " at least one of " + DoctorGraphs.VARIABLE_OPS);
        }
        return check(session, loss, vars, batches);
    }

    /**
     * Checks the given variables (the trainable ones, as a {@code GuardedOptimizer} user has them).
     *
     * @param session a session of the loss's graph
     * @param loss the loss, floating point
     * @param variables graph variables, in creation order (the trend is read in this order)
     * @param batches one or a few batches; the norms are the root mean square over them
     * @return the report
     * @throws IllegalArgumentException naming the bad argument: a variable that is not a floating-point
     *     graph variable of static shape, a non-floating loss, no batch
     */
    public FlowReport check(Session session, Operand<?> loss, List<? extends Operand<?>> variables,
            List<BatchFeed> batches) {
        long start = System.nanoTime();
        Graph graph = graphOf(session, loss);
        Objects.requireNonNull(variables, "variables");
        if (batches == null || batches.isEmpty()) {
            throw new IllegalArgumentException("batches must hold 1 or more feeds, but was "
                    + (batches == null ? "null" : "empty"));
        }
        List<Output<?>> vars = new ArrayList<>();
        for (int i = 0; i < variables.size(); i++) {
            vars.add(DoctorGraphs.requireVariable(variables.get(i), "variables[" + i + "]"));
        }
        FlowGraph fg = FlowGraph.build(graph, loss, vars);
        int n = vars.size();
        double[] grad2 = new double[n + fg.signals()];
        double[] weight2 = null;
        for (BatchFeed batch : batches) {
            Objects.requireNonNull(batch, "batch");
            double[][] r = fg.run(session, batch::feed, weight2 == null);
            for (int i = 0; i < grad2.length; i++) {
                grad2[i] += r[0][i] / batches.size();
            }
            if (weight2 == null) {
                weight2 = r[1];
            }
        }
        List<VariableFlow> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Output<?> v = vars.get(i);
            boolean weight = v.shape().numDimensions() >= 2;
            double g = Math.sqrt(grad2[i]);
            double w = Math.sqrt(weight2[i]);
            int si = fg.signalIndex(i);
            OptionalDouble signal = si < 0 ? OptionalDouble.empty() : OptionalDouble.of(Math.sqrt(grad2[n + si]));
            double update = learningRate * g / w;
            double sign = learningRate * Math.sqrt(v.shape().size()) / w;
            rows.add(new VariableFlow(fg.names().get(i), v.shape(), weight, g, w, g / w, update, sign, signal,
                    judge(weight, fg.hasGradient(i), g, w, update)));
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        return new FlowReport(rows, learningRate, this, batches.size(), millis);
    }

    private Optional<String> judge(boolean weight, boolean hasGradient, double g, double w, double update) {
        if (!Double.isFinite(g) || !Double.isFinite(w)) {
            return Optional.of(String.format(Locale.ROOT, "non-finite %s (|grad| %s, |w| %s)",
                    Double.isFinite(w) ? "gradient" : "value", g, w));
        }
        if (!hasGradient) {
            return Optional.of("no gradient: the loss depends on it only through ops without a gradient");
        }
        if (!weight) {
            return Optional.empty();
        }
        if (w == 0) {
            return Optional.of("all-zero weight matrix: its units cannot differ from one another");
        }
        if (update > maxUpdateRatio) {
            return Optional.of(String.format(Locale.ROOT, "update-to-weight ratio lr*|g|/|w| %.3g above %.3g", update,
                    maxUpdateRatio));
        }
        if (update < minUpdateRatio) {
            return Optional.of(String.format(Locale.ROOT, "update-to-weight ratio lr*|g|/|w| %.3g below %.3g"
                    + " (its gradient vanished)", update, minUpdateRatio));
        }
        return Optional.empty();
    }

    private static Graph graphOf(Session session, Operand<?> loss) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(loss, "loss");
        if (!TFloating.class.isAssignableFrom(loss.type())) {
            throw new IllegalArgumentException("loss '" + loss.op().name() + "' is " + loss.type().getSimpleName()
                    + "; expected a floating-point loss");
        }
        if (loss.env() != session.graph()) {
            throw new IllegalArgumentException("loss '" + loss.op().name() + "' is not in the session's graph");
        }
        return session.graph();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "TfFlowCheck[lr %s, update ratio %s..%s, growth %.3g..%.3g]", learningRate,
                minUpdateRatio, maxUpdateRatio, minGrowth, maxGrowth);
    }

    /** Builds a {@link TfFlowCheck}; every setter checks its own value, {@link #build} the rules across them. */
    public static final class Builder {
        private double learningRate = Double.NaN;
        private double maxUpdateRatio = DEFAULT_MAX_UPDATE_RATIO;
        private double minUpdateRatio = DEFAULT_MIN_UPDATE_RATIO;
        private double maxGrowth = DEFAULT_MAX_GROWTH;
        private double minGrowth = DEFAULT_MIN_GROWTH;

        private Builder() {}

        /**
         * @param lr the learning rate the user trains with, finite and &gt; 0 (required)
         * @return this builder
         */
        public Builder learningRate(double lr) {
            this.learningRate = positive("learningRate", lr);
            return this;
        }

        /**
         * @param ratio upper bound of a weight's {@code lr * |g| / |w|}, finite and &gt; 0 (default 0.1)
         * @return this builder
         */
        public Builder maxUpdateRatio(double ratio) {
            this.maxUpdateRatio = positive("maxUpdateRatio", ratio);
            return this;
        }

        /**
         * @param ratio lower bound of a weight's {@code lr * |g| / |w|}, finite and &gt; 0 (default 1e-7)
         * @return this builder
         */
        public Builder minUpdateRatio(double ratio) {
            this.minUpdateRatio = positive("minUpdateRatio", ratio);
            return this;
        }

        /**
         * @param min lower bound of the growth per layer, in (0, 1) (default 1/1.5)
         * @param max upper bound of the growth per layer, finite and &gt; 1 (default 1.5)
         * @return this builder
         */
        public Builder growthRange(double min, double max) {
            if (!(min > 0 && min < 1)) {
                throw new IllegalArgumentException("minGrowth must be greater than 0 and lower than 1, but was " + min);
            }
            if (!(max > 1) || !Double.isFinite(max)) {
                throw new IllegalArgumentException("maxGrowth must be finite and greater than 1, but was " + max);
            }
            this.minGrowth = min;
            this.maxGrowth = max;
            return this;
        }

        /**
         * @return the check
         * @throws IllegalStateException when the learning rate is missing or the update bounds are crossed
         */
        public TfFlowCheck build() {
            if (Double.isNaN(learningRate)) {
                throw new IllegalStateException("learningRate is required (the rate the user trains with), but was not set");
            }
            if (minUpdateRatio >= maxUpdateRatio) {
                throw new IllegalStateException("minUpdateRatio must be lower than maxUpdateRatio, but was " + minUpdateRatio
                        + " >= " + maxUpdateRatio);
            }
            return new TfFlowCheck(this);
        }

        private static double positive(String name, double v) {
            if (!(v > 0) || !Double.isFinite(v)) {
                throw new IllegalArgumentException(name + " must be finite and greater than 0, but was " + v);
            }
            return v;
        }
    }
}
