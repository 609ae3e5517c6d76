package io.gradguard.tensorflow.internal;

import io.gradguard.core.StepPlan;
import io.gradguard.core.internal.Fields;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.framework.optimizers.Optimizer.GradAndVar;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Merge;
import org.tensorflow.op.core.PlaceholderWithDefault;
import org.tensorflow.op.core.SwitchCond;
import org.tensorflow.op.core.Unstack;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TNumber;
import org.tensorflow.types.family.TType;

/**
 * The guard's part of a training graph, built around one optimizer's {@code applyGradients}.
 *
 * <p>In the graph, per step and in the same {@code Session.run} as the train op:
 *
 * <ul>
 *   <li>per-gradient sums of squares (float64, so a finite float32 gradient never overflows), the
 *       global norm and the loss, stacked into one float64 vector that the runner fetches;
 *   <li>the {@link StepPlan} predicate, from a fed plan vector (a placeholder with a default that only
 *       skips non-finite steps): apply or skip, the clip coefficient, snapshot or not;
 *   <li>gradients multiplied by the clip coefficient and routed through a {@code Switch}: on a skip the
 *       optimizer's update ops, its slot updates and its other state updates (Adam's beta powers) are
 *       dead and do not run, so nothing moves;
 *   <li>a pre-update copy of every trainable variable and optimizer variable into the one snapshot,
 *       when the plan asks for it and the step is healthy;
 *   <li>the learning-rate scale: when below 1, each variable ends at {@code before + scale * (after -
 *       before)}, which equals a learning rate times {@code scale} for optimizers whose update is
 *       linear in the learning rate (GradientDescent, Momentum, Adam, Adamax, AdaGrad, AdaDelta,
 *       RMSProp without momentum).
 * </ul>
 *
 * Restoring the snapshot and reading weight norms are separate ops, run only when needed.
 *
 * <p>The optimizer's own ops are made to depend on the guard by swapping its {@code tf} field for
 * one with a control dependency while {@code applyGradients} builds, and restoring it afterwards.
 */
public final class GuardedGraph {

    /** Stats vector, after the per-gradient sums of squares: offset of the global norm. */
    public static final int STAT_NORM = 0;
    /** Offset of the loss (0 when the loss is unknown). */
    public static final int STAT_LOSS = 1;
    /** Offset of the applied flag (1: the update ran, 0: skipped). */
    public static final int STAT_APPLIED = 2;
    /** Offset of the clip coefficient. */
    public static final int STAT_COEF = 3;
    /** Offset of the snapshot flag (1: the pre-update state was copied). */
    public static final int STAT_SNAPSHOT = 4;

    private static final Field TF_FIELD = Fields.find(Optimizer.class, "tf");

    private final Graph graph;
    private final List<String> names = new ArrayList<>();
    private final List<Long> sizes = new ArrayList<>();
    private final List<String> stateNames = new ArrayList<>();
    private final PlaceholderWithDefault<TFloat64> plan;
    private final Output<TFloat64> stats;
    private final Op train;
    private final Op restore;
    private final Output<TFloat64> weightNorms;
    private final boolean lossKnown;
    private final String optimizerName;

    private GuardedGraph(Graph graph, PlaceholderWithDefault<TFloat64> plan, Output<TFloat64> stats, Op train,
            Op restore, Output<TFloat64> weightNorms, boolean lossKnown, String optimizerName) {
        this.graph = graph;
        this.plan = plan;
        this.stats = stats;
        this.train = train;
        this.restore = restore;
        this.weightNorms = weightNorms;
        this.lossKnown = lossKnown;
        this.optimizerName = optimizerName;
    }

    /** @return the graph */
    public Graph graph() {
        return graph;
    }

    /** @return the op the user runs as the train target */
    public Op train() {
        return train;
    }

    /** @return the placeholder the runner feeds with the plan */
    public PlaceholderWithDefault<TFloat64> plan() {
        return plan;
    }

    /** @return the stats vector: sums of squares per gradient, then norm, loss, applied, coef, snapshot */
    public Output<TFloat64> stats() {
        return stats;
    }

    /** @return the op that restores the snapshot */
    public Op restore() {
        return restore;
    }

    /** @return the per-variable weight norms */
    public Output<TFloat64> weightNorms() {
        return weightNorms;
    }

    /** @return the trainable variables' names, in gradient order */
    public List<String> names() {
        return names;
    }

    /** @return the trainable variables' element counts (-1 when unknown) */
    public List<Long> sizes() {
        return sizes;
    }

    /** @return the optimizer state variables the snapshot holds besides the trainable ones */
    public List<String> stateNames() {
        return stateNames;
    }

    /** @return true when the loss is part of the stats (false when the gradients came without it) */
    public boolean lossKnown() {
        return lossKnown;
    }

    /** @return the optimizer's name */
    public String optimizerName() {
        return optimizerName;
    }

    /**
     * Builds the guarded update. Calls {@code optimizer.applyGradients} once, with guarded gradients.
     *
     * @param optimizer the user's optimizer
     * @param loss the loss the gradients are of, or null when unknown
     * @param gradsAndVars the gradients, as from {@code computeGradients}
     * @param name the train op's name
     * @return the guarded graph
     * @throws IllegalArgumentException when there is nothing to guard or a gradient is not floating point
     * @throws IllegalStateException when this TensorFlow Java does not have the shape GradGuard expects
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static GuardedGraph build(Optimizer optimizer, Operand<?> loss, List<GradAndVar<? extends TType>> gradsAndVars,
            String name) {
        if (TF_FIELD == null) {
            throw new IllegalStateException("this TensorFlow Java's Optimizer has no 'tf' field; GradGuard supports tensorflow-framework 1.x");
        }
        if (gradsAndVars == null || gradsAndVars.isEmpty()) {
            throw new IllegalArgumentException("no gradients to guard: computeGradients returned none");
        }
        Ops userTf = optimizer.getTF();
        Graph graph = (Graph) userTf.scope().env();
        Ops tf = Ops.create(graph).withSubScope("gradguard");
        Ops init = tf.withInitScope();

        double[] defaults = StepPlan.SKIP_NONFINITE_ONLY.toArray();
        PlaceholderWithDefault<TFloat64> plan = tf.withName("plan").placeholderWithDefault(init.constant(defaults),
                Shape.of(StepPlan.SIZE));
        Unstack<TFloat64> p = tf.unstack(plan, (long) StepPlan.SIZE);
        List<Output<TFloat64>> pv = new ArrayList<>();
        p.forEach(o -> pv.add(o.asOutput()));

        // ---- numbers: sums of squares in float64, global norm, loss
        List<Output<? extends TType>> grads = new ArrayList<>();
        List<Output<? extends TType>> vars = new ArrayList<>();
        List<Operand<TFloat64>> sumSquares = new ArrayList<>();
        List<String> varNames = new ArrayList<>();
        List<Long> varSizes = new ArrayList<>();
        for (GradAndVar<? extends TType> gv : gradsAndVars) {
            Output<? extends TType> g = gv.getGradient();
            Output<? extends TType> v = gv.getVariable();
            if (g == null) {
                throw new IllegalArgumentException("variable " + v.op().name() + " has no gradient: it does not affect the loss");
            }
            if (!isFloating(g.type())) {
                throw new IllegalArgumentException("gradient of " + v.op().name() + " is " + g.type().getSimpleName()
                        + "; GradGuard guards floating-point gradients only");
            }
            grads.add(g);
            vars.add(v);
            varNames.add(v.op().name());
            Shape s = v.shape();
            varSizes.add(s.isUnknown() || s.hasUnknownDimension() ? -1L : s.size());
            Operand<TFloat64> g64 = tf.dtypes.cast(g, TFloat64.class);
            sumSquares.add(tf.reduceSum(tf.math.square(g64), allAxes(tf, g64)));
        }
        Operand<TFloat64> ss = tf.stack(sumSquares);
        Operand<TFloat64> norm = tf.math.sqrt(tf.reduceSum(ss, tf.constant(0)));
        Operand<TFloat64> lossValue;
        boolean lossKnown = loss != null && isFloating(loss.type());
        if (lossKnown) {
            Operand<TFloat64> l64 = tf.dtypes.cast(loss, TFloat64.class);
            lossValue = tf.math.mean(l64, allAxes(tf, l64));
        } else {
            lossValue = tf.constant(0.0);
        }

        // ---- the StepPlan predicate, in float64 (StepPlan.predict is the reference)
        Operand<TFloat64> half = tf.constant(0.5);
        Operand<TBool> skipNonFinite = tf.math.greater(pv.get(6), half);
        Operand<TBool> skipAll = tf.math.greater(pv.get(7), half);
        Operand<TBool> snapshotIf = tf.math.greater(pv.get(8), half);
        Operand<TFloat64> lrScale = pv.get(9);
        Operand<TBool> finite = tf.math.logicalAnd(tf.math.isFinite(norm), tf.math.isFinite(lossValue));
        Operand<TBool> outlier = tf.math.logicalOr(tf.math.greater(norm, pv.get(1)),
                tf.math.logicalAnd(tf.math.greater(lossValue, pv.get(2)), tf.math.greater(norm, pv.get(3))));
        Operand<TBool> skip = tf.math.logicalOr(skipAll, tf.math.logicalOr(
                tf.math.logicalAnd(tf.math.logicalNot(finite), skipNonFinite), tf.math.logicalAnd(finite, outlier)));
        Operand<TBool> apply = tf.math.logicalNot(skip);
        Operand<TBool> clip = tf.math.logicalAnd(tf.math.logicalAnd(finite, apply), tf.math.greater(norm, pv.get(0)));
        Operand<TFloat64> one = tf.constant(1.0);
        Operand<TFloat64> coef = tf.select(clip,
                tf.math.minimum(tf.math.div(pv.get(0), tf.math.add(norm, tf.constant(io.gradguard.core.clip.GlobalNormClip.EPSILON))), one),
                one);
        Operand<TBool> healthy = tf.math.logicalAnd(tf.math.logicalAnd(finite, apply), tf.math.logicalAnd(tf.math.logicalNot(clip),
                tf.math.logicalAnd(tf.math.logicalNot(tf.math.greater(norm, pv.get(4))),
                        tf.math.logicalNot(tf.math.greater(lossValue, pv.get(5))))));
        Operand<TBool> snapshot = tf.math.logicalAnd(snapshotIf, healthy);
        Operand<TBool> scaled = tf.math.logicalAnd(apply, tf.math.notEqual(lrScale, one));

        Operand<TFloat64> zero = tf.constant(0.0);
        // in the order of the STAT_* offsets
        Operand<TFloat64> extra = tf.stack(List.of(norm, lossValue, tf.select(apply, one, zero), coef,
                tf.select(snapshot, one, zero)));
        Output<TFloat64> stats = tf.withName("stats").concat(List.of(ss, extra), tf.constant(0)).asOutput();

        // ---- guarded gradients, built lazily: applyGradients creates the optimizer's slots before it
        // first asks for a gradient, so the snapshot can include them and precede every update.
        Ops original = userTf;
        Lazy lazy = new Lazy(optimizer, tf, init, original, grads, vars, coef, apply, snapshot, scaled);
        List<GradAndVar<? extends TType>> guarded = new ArrayList<>();
        for (int i = 0; i < grads.size(); i++) {
            guarded.add(lazy.gradAndVar(i));
        }
        String trainName = name == null ? optimizer.getOptimizerName() + "-minimize" : name;
        Op finish;
        // the agent, when present, must let this call through to the optimizer's own body
        TfClaims.beginBuild();
        try {
            // the optimizer's own op gets another name: the user's name must find the guarded op
            finish = optimizer.applyGradients(guarded, trainName + "_unguarded");
        } finally {
            TfClaims.endBuild();
            lazy.restoreTf();
        }
        if (lazy.failure != null) {
            throw lazy.failure;
        }
        if (!lazy.built) {
            throw new IllegalStateException(optimizer.getClass().getName() + ".applyGradients never asked for the gradients");
        }

        // ---- learning-rate scale: before + scale * (after - before), only when the scale is not 1
        List<Op> after = new ArrayList<>();
        after.add(finish);
        Ops afterFinish = tf.withControlDependencies(List.of(finish));
        for (int i = 0; i < vars.size(); i++) {
            Output v = vars.get(i);
            Class type = v.type();
            SwitchCond sw = tf.switchCond(afterFinish.identity(v), scaled);
            Operand before = tf.identity(lazy.pre.get(i));
            Operand s = tf.dtypes.cast(lrScale, type);
            Operand scaledValue = tf.math.add(before, tf.math.mul(s, tf.math.sub(sw.outputTrue(), before)));
            Op assigned = tf.assign(v, scaledValue);
            Merge m = tf.merge(List.of(((org.tensorflow.op.core.Assign) assigned).outputRef(), sw.outputFalse()));
            after.add(m);
        }
        Op train = userTf.withName(trainName).withControlDependencies(after).noOp();

        // ---- restore and weight norms: separate, rare runs
        List<Op> restores = new ArrayList<>();
        for (int i = 0; i < lazy.state.size(); i++) {
            restores.add(tf.assign((Output) lazy.state.get(i), (Operand) lazy.snap.get(i)));
        }
        Op restore = tf.withName("restore").withControlDependencies(restores).noOp();
        List<Operand<TFloat64>> wn = new ArrayList<>();
        for (Output<? extends TType> v : vars) {
            Operand<TFloat64> v64 = tf.dtypes.cast(v, TFloat64.class);
            wn.add(tf.math.sqrt(tf.reduceSum(tf.math.square(v64), allAxes(tf, v64))));
        }
        Output<TFloat64> weightNorms = tf.withName("weight_norms").stack(wn).asOutput();

        GuardedGraph gg = new GuardedGraph(graph, plan, stats, train, restore, weightNorms, lossKnown,
                optimizer.getOptimizerName());
        gg.names.addAll(varNames);
        gg.sizes.addAll(varSizes);
        for (int i = vars.size(); i < lazy.state.size(); i++) {
            gg.stateNames.add(lazy.state.get(i).op().name());
        }
        return gg;
    }

    private static Operand<TInt32> allAxes(Ops tf, Operand<? extends TType> x) {
        return tf.range(tf.constant(0), tf.rank(x), tf.constant(1));
    }

    private static boolean isFloating(Class<?> type) {
        return org.tensorflow.types.family.TFloating.class.isAssignableFrom(type);
    }

    /** Builds the snapshot, the pre-update copies and the gated gradients on the optimizer's first request. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static final class Lazy {
        final Optimizer optimizer;
        final Ops tf;
        final Ops init;
        final Ops original;
        final List<Output<? extends TType>> grads;
        final List<Output<? extends TType>> vars;
        final Operand<TFloat64> coef;
        final Operand<TBool> apply;
        final Operand<TBool> snapshot;
        final Operand<TBool> scaled;
        final List<Output<? extends TType>> state = new ArrayList<>();
        final List<Variable<?>> snap = new ArrayList<>();
        final List<Variable<?>> pre = new ArrayList<>();
        final Output[] gated;
        boolean built;
        boolean swapped;
        RuntimeException failure;

        Lazy(Optimizer optimizer, Ops tf, Ops init, Ops original, List<Output<? extends TType>> grads,
                List<Output<? extends TType>> vars, Operand<TFloat64> coef, Operand<TBool> apply,
                Operand<TBool> snapshot, Operand<TBool> scaled) {
            this.optimizer = optimizer;
            this.tf = tf;
            this.init = init;
            this.original = original;
            this.grads = grads;
            this.vars = vars;
            this.coef = coef;
            this.apply = apply;
            this.snapshot = snapshot;
            this.scaled = scaled;
            this.gated = new Output[grads.size()];
        }

        GradAndVar<? extends TType> gradAndVar(int i) {
            Output g = grads.get(i);
            Output v = vars.get(i);
            return new GradAndVar(g, v) {
                @Override
                public Output getGradient() {
                    ensureBuilt();
                    return gated[i] != null ? gated[i] : g;
                }
            };
        }

        void ensureBuilt() {
            if (built || failure != null) {
                return;
            }
            try {
                build();
                built = true;
            } catch (RuntimeException e) {
                failure = e;
            }
        }

        private void build() {
            // every variable a rollback must restore: the trainable ones, then the optimizer's own
            IdentityHashMap<Object, Boolean> seen = new IdentityHashMap<>();
            Map<String, Output<? extends TType>> byName = new LinkedHashMap<>();
            for (Output<? extends TType> v : vars) {
                byName.put(v.op().name(), v);
            }
            collectOptimizerVariables(optimizer, optimizer.getClass(), seen, byName);
            state.addAll(byName.values());
            List<Op> before = new ArrayList<>();
            for (int i = 0; i < state.size(); i++) {
                Output s = state.get(i);
                Shape shape = s.shape();
                if (shape.isUnknown() || shape.hasUnknownDimension()) {
                    throw new IllegalStateException("variable " + s.op().name() + " has no static shape " + shape
                            + "; GradGuard cannot hold a snapshot of it");
                }
                Variable sv = init.withSubScope("snapshot").variable(
                        init.zeros(init.constant(shape.asArray()), s.type()));
                snap.add(sv);
                SwitchCond sw = tf.switchCond(tf.identity(s), snapshot);
                Op copied = tf.assign(sv, sw.outputTrue());
                before.add(tf.merge(List.of(((org.tensorflow.op.core.Assign) copied).outputRef(), sw.outputFalse())));
                if (i < vars.size()) {
                    Variable pv = init.withSubScope("before").variable(
                            init.zeros(init.constant(shape.asArray()), s.type()));
                    pre.add(pv);
                    SwitchCond swp = tf.switchCond(tf.identity(s), scaled);
                    Op kept = tf.assign(pv, swp.outputTrue());
                    before.add(tf.merge(List.of(((org.tensorflow.op.core.Assign) kept).outputRef(), swp.outputFalse())));
                }
            }
            // dead on a skip: everything the optimizer builds from here on depends on it
            SwitchCond<TBool> gate = tf.switchCond(apply, apply);
            Op barrier = tf.withControlDependencies(before).identity(gate.outputTrue());
            Ops gatedTf = tf.withControlDependencies(List.of(barrier));
            for (int i = 0; i < grads.size(); i++) {
                Output g = grads.get(i);
                Operand c = tf.dtypes.cast(coef, g.type());
                SwitchCond sw = tf.switchCond(tf.math.mul(g, c), apply);
                gated[i] = gatedTf.identity(sw.outputTrue()).asOutput();
            }
            // the optimizer's prepare/finish ops (Adam's beta powers, ...) are built with its own 'tf':
            // give it the barrier for the rest of applyGradients
            try {
                TF_FIELD.set(optimizer, original.withControlDependencies(List.of(barrier)));
                swapped = true;
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot reach the optimizer's ops", e);
            }
        }

        void restoreTf() {
            if (swapped) {
                try {
                    TF_FIELD.set(optimizer, original);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("cannot restore the optimizer's ops", e);
                }
            }
        }

        private static void collectOptimizerVariables(Object owner, Class<?> type, IdentityHashMap<Object, Boolean> seen,
                Map<String, Output<? extends TType>> out) {
            for (Field f : Fields.instanceFields(type)) {
                if (f.getType().isPrimitive()) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    collect(f.get(owner), seen, out);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    // a field we cannot read holds no variable we know of
                }
            }
        }

        private static void collect(Object value, IdentityHashMap<Object, Boolean> seen, Map<String, Output<? extends TType>> out) {
            if (value == null || seen.put(value, Boolean.TRUE) != null) {
                return;
            }
            if (value instanceof Variable<?> v) {
                Output<? extends TType> o = v.asOutput();
                out.putIfAbsent(o.op().name(), o);
            } else if (value instanceof Map<?, ?> m) {
                for (Object e : m.values()) {
                    collect(e, seen, out);
                }
            } else if (value instanceof Collection<?> col) {
                for (Object e : col) {
                    collect(e, seen, out);
                }
            }
        }
    }
}
