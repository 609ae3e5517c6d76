package io.gradguard.tensorflow.internal;

import io.gradguard.core.StepPlan;
import io.gradguard.core.clip.GlobalNormClip;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.framework.optimizers.Optimizer.GradAndVar;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.PlaceholderWithDefault;
import org.tensorflow.op.core.Unstack;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;
import org.tensorflow.types.family.TType;

/**
 * The step's numbers and the {@link StepPlan} predicate, as ops in the graph: what the guard measures and decides
 * inside the train op's own {@code Session.run}.
 *
 * <p>It builds, in this order: the fed plan (a placeholder whose default only skips non-finite steps), each
 * gradient's sum of squares in float64 (so a finite float32 gradient never overflows), the global norm, the loss, the
 * predicate ({@link StepPlan#predict} is the reference: apply or skip, the clip coefficient, snapshot or not, learning
 * rate scaled or not) and the stats vector the runner fetches. It does not touch the optimizer; {@link GradientGate}
 * routes the gradients through what it decides.
 */
final class StepPlanGraph {

    /** The fed plan vector. */
    final PlaceholderWithDefault<TFloat64> plan;
    /** The gradients, in the order given. */
    final List<Output<? extends TType>> grads;
    /** The trainable variables, in gradient order. */
    final List<Output<? extends TType>> vars;
    /** The trainable variables' names, in gradient order. */
    final List<String> names;
    /** The trainable variables' element counts (-1 when unknown). */
    final List<Long> sizes;
    /** True when the loss is part of the stats. */
    final boolean lossKnown;
    /** The plan's learning-rate scale. */
    final Operand<TFloat64> lrScale;
    /** The clip coefficient (1 when not clipping). */
    final Operand<TFloat64> coef;
    /** True when the update runs. */
    final Operand<TBool> apply;
    /** True when the pre-update state is copied into the snapshot. */
    final Operand<TBool> snapshot;
    /** True when the update runs at a learning-rate scale other than 1. */
    final Operand<TBool> scaled;
    /** Sums of squares per gradient, then the values at the {@code GuardedGraph.STAT_*} offsets. */
    final Output<TFloat64> stats;

    private StepPlanGraph(PlaceholderWithDefault<TFloat64> plan, List<Output<? extends TType>> grads,
            List<Output<? extends TType>> vars, List<String> names, List<Long> sizes, boolean lossKnown,
            Operand<TFloat64> lrScale, Operand<TFloat64> coef, Operand<TBool> apply, Operand<TBool> snapshot,
            Operand<TBool> scaled, Output<TFloat64> stats) {
        this.plan = plan;
        this.grads = grads;
        this.vars = vars;
        this.names = names;
        this.sizes = sizes;
        this.lossKnown = lossKnown;
        this.lrScale = lrScale;
        this.coef = coef;
        this.apply = apply;
        this.snapshot = snapshot;
        this.scaled = scaled;
        this.stats = stats;
    }

    /**
     * Builds the plan, the numbers, the predicate and the stats vector.
     *
     * @param tf the guard's scope
     * @param init the guard's init scope (the plan's default value)
     * @param loss the loss the gradients are of, or null when unknown
     * @param gradsAndVars the gradients, as from {@code computeGradients}; not empty
     * @return the ops
     * @throws IllegalArgumentException when a variable has no gradient or a gradient is not floating point
     */
    static StepPlanGraph build(Ops tf, Ops init, Operand<?> loss, List<GradAndVar<? extends TType>> gradsAndVars) {
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
        Operand<TFloat64> one = tf.constant(1.0);
        // the cap (after a rollback) first: every threshold below judges the capped norm n
        Operand<TFloat64> capTo = pv.get(11);
        Operand<TFloat64> cap = tf.select(tf.math.greater(norm, capTo), coefficient(tf, norm, capTo), one);
        Operand<TFloat64> n = tf.math.mul(norm, cap);
        Operand<TBool> outlier = tf.math.logicalOr(tf.math.greater(n, pv.get(1)),
                tf.math.logicalAnd(tf.math.greater(lossValue, pv.get(2)), tf.math.greater(n, pv.get(3))));
        Operand<TBool> skip = tf.math.logicalOr(skipAll, tf.math.logicalOr(
                tf.math.logicalAnd(tf.math.logicalNot(finite), skipNonFinite), tf.math.logicalAnd(finite, outlier)));
        Operand<TBool> apply = tf.math.logicalNot(skip);
        Operand<TBool> applyFinite = tf.math.logicalAnd(finite, apply);
        Operand<TBool> clip = tf.math.logicalAnd(applyFinite, tf.math.greater(n, pv.get(0)));
        Operand<TFloat64> coef = tf.select(applyFinite, tf.math.mul(cap, tf.select(clip, coefficient(tf, n, pv.get(10)), one)),
                one);
        Operand<TBool> healthy = tf.math.logicalAnd(applyFinite, tf.math.logicalAnd(tf.math.logicalNot(clip),
                tf.math.logicalAnd(tf.math.logicalNot(tf.math.greater(n, pv.get(4))),
                        tf.math.logicalNot(tf.math.greater(lossValue, pv.get(5))))));
        Operand<TBool> snapshot = tf.math.logicalAnd(snapshotIf, healthy);
        Operand<TBool> scaled = tf.math.logicalAnd(apply, tf.math.notEqual(lrScale, one));

        Operand<TFloat64> zero = tf.constant(0.0);
        // in the order of the GuardedGraph.STAT_* offsets
        Operand<TFloat64> extra = tf.stack(List.of(norm, lossValue, tf.select(apply, one, zero), coef,
                tf.select(snapshot, one, zero)));
        Output<TFloat64> stats = tf.withName("stats").concat(List.of(ss, extra), tf.constant(0)).asOutput();
        return new StepPlanGraph(plan, grads, vars, varNames, varSizes, lossKnown, lrScale, coef, apply, snapshot,
                scaled, stats);
    }

    /**
     * {@link GlobalNormClip#coefficient} as ops, in float64: the same operations in the same order, so the graph's
     * coefficient equals the guard's to the bit.
     *
     * @param tf the scope to build in
     * @param norm the norm
     * @param maxNorm the norm to scale down to
     * @return {@code min(maxNorm / (norm + 1e-6), 1)}
     */
    private static Operand<TFloat64> coefficient(Ops tf, Operand<TFloat64> norm, Operand<TFloat64> maxNorm) {
        return tf.math.minimum(tf.math.div(maxNorm, tf.math.add(norm, tf.constant(GlobalNormClip.EPSILON))), tf.constant(1.0));
    }

    /**
     * @param tf the scope to build in
     * @param x a tensor
     * @return the axes {@code 0 .. rank(x) - 1}, to reduce over all of them
     */
    static Operand<TInt32> allAxes(Ops tf, Operand<? extends TType> x) {
        return tf.range(tf.constant(0), tf.rank(x), tf.constant(1));
    }

    private static boolean isFloating(Class<?> type) {
        return TFloating.class.isAssignableFrom(type);
    }
}
