package io.gradguard.tensorflow.internal;

import io.gradguard.core.StepPlan;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.framework.optimizers.Optimizer.GradAndVar;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Merge;
import org.tensorflow.op.core.PlaceholderWithDefault;
import org.tensorflow.op.core.SwitchCond;
import org.tensorflow.types.TFloat64;
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
 *
 * <p>This class assembles those parts, in that order, and is what a runner holds: {@link StepPlanGraph}
 * builds the numbers, the predicate and the stats vector; {@link GradientGate} gates the optimizer's
 * update; {@link GuardSnapshot} holds the snapshot and builds its restore op. The learning-rate scale and
 * the weight norms are built here.
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

    private final Graph graph;
    private final List<String> names = new ArrayList<>();
    private final List<Long> sizes = new ArrayList<>();
    private final List<String> stateNames = new ArrayList<>();
    private final PlaceholderWithDefault<TFloat64> plan;
    private final Output<TFloat64> stats;
    private final Op train;
    private final Op restore;
    private final Output<TFloat64> weightNorms;
    private final Output<TFloat64> firstStepNorms;
    private final List<Integer> ranks = new ArrayList<>();
    private final boolean lossKnown;
    private final String optimizerName;

    private GuardedGraph(Graph graph, PlaceholderWithDefault<TFloat64> plan, Output<TFloat64> stats, Op train,
            Op restore, Output<TFloat64> weightNorms, Output<TFloat64> firstStepNorms, boolean lossKnown,
            String optimizerName) {
        this.graph = graph;
        this.firstStepNorms = firstStepNorms;
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

    /**
     * The trainable variables' norms in the snapshot and the norms of their change since it, in one vector: first
     * each variable's snapshot norm, then each variable's distance from its snapshot, in gradient order. Run after a
     * step that took a snapshot, it gives that step's pre-update weight norms and update norms.
     *
     * @return the output (a separate, rare run: the guard runs it once, after the first step)
     */
    public Output<TFloat64> firstStepNorms() {
        return firstStepNorms;
    }

    /** @return each trainable variable's rank (number of dimensions), in gradient order */
    public List<Integer> ranks() {
        return ranks;
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
    public static GuardedGraph build(Optimizer optimizer, Operand<?> loss, List<GradAndVar<? extends TType>> gradsAndVars,
            String name) {
        if (!GradientGate.supported()) {
            throw new IllegalStateException("this TensorFlow Java's Optimizer has no 'tf' field; GradGuard supports tensorflow-framework 1.x");
        }
        if (gradsAndVars == null || gradsAndVars.isEmpty()) {
            throw new IllegalArgumentException("no gradients to guard: computeGradients returned none");
        }
        Ops userTf = optimizer.getTF();
        Graph graph = (Graph) userTf.scope().env();
        Ops tf = Ops.create(graph).withSubScope("gradguard");
        Ops init = tf.withInitScope();
        StepPlanGraph step = StepPlanGraph.build(tf, init, loss, gradsAndVars);

        // ---- guarded gradients, built lazily: applyGradients creates the optimizer's slots before it
        // first asks for a gradient, so the snapshot can include them and precede every update.
        GradientGate gate = new GradientGate(optimizer, tf, init, userTf, step);
        List<GradAndVar<? extends TType>> guarded = new ArrayList<>();
        for (int i = 0; i < step.grads.size(); i++) {
            guarded.add(gate.gradAndVar(i));
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
            gate.restoreTf();
        }
        gate.check();
        GuardSnapshot snapshot = gate.snapshot();

        List<Op> after = scaleLearningRate(tf, step, snapshot, finish);
        Op train = userTf.withName(trainName).withControlDependencies(after).noOp();

        // ---- restore and weight norms: separate, rare runs
        Op restore = snapshot.restoreOp(tf);
        Output<TFloat64> weightNorms = weightNorms(tf, step.vars);
        Output<TFloat64> firstStepNorms = firstStepNorms(tf, step.vars, snapshot);

        GuardedGraph gg = new GuardedGraph(graph, step.plan, step.stats, train, restore, weightNorms, firstStepNorms,
                step.lossKnown, optimizer.getOptimizerName());
        step.vars.forEach(v -> gg.ranks.add(v.shape().numDimensions()));
        gg.names.addAll(step.names);
        gg.sizes.addAll(step.sizes);
        gg.stateNames.addAll(snapshot.stateNames());
        return gg;
    }

    /**
     * The learning-rate scale: after the update, each variable ends at {@code before + scale * (after - before)}, only
     * when the scale is not 1 (otherwise the update's value passes through).
     *
     * @return the ops the train op waits for: the optimizer's finish op, then one per variable
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static List<Op> scaleLearningRate(Ops tf, StepPlanGraph step, GuardSnapshot snapshot, Op finish) {
        List<Op> after = new ArrayList<>();
        after.add(finish);
        Ops afterFinish = tf.withControlDependencies(List.of(finish));
        for (int i = 0; i < step.vars.size(); i++) {
            Output v = step.vars.get(i);
            Class type = v.type();
            SwitchCond sw = tf.switchCond(afterFinish.identity(v), step.scaled);
            Operand before = tf.identity(snapshot.pre(i));
            Operand s = tf.dtypes.cast(step.lrScale, type);
            Operand scaledValue = tf.math.add(before, tf.math.mul(s, tf.math.sub(sw.outputTrue(), before)));
            Op assigned = tf.assign(v, scaledValue);
            Merge m = tf.merge(List.of(((Assign) assigned).outputRef(), sw.outputFalse()));
            after.add(m);
        }
        return after;
    }

    /** @return the snapshot norms, then the distances from the snapshot, in float64, named {@code first_step_norms} */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Output<TFloat64> firstStepNorms(Ops tf, List<Output<? extends TType>> vars, GuardSnapshot snapshot) {
        List<Operand<TFloat64>> held = new ArrayList<>();
        List<Operand<TFloat64>> moved = new ArrayList<>();
        for (int i = 0; i < vars.size(); i++) {
            Operand<TFloat64> v64 = tf.dtypes.cast(vars.get(i), TFloat64.class);
            Operand<TFloat64> s64 = tf.dtypes.cast((Operand) snapshot.held(i), TFloat64.class);
            held.add(norm(tf, s64));
            moved.add(norm(tf, tf.math.sub(v64, s64)));
        }
        held.addAll(moved);
        return tf.withName("first_step_norms").stack(held).asOutput();
    }

    private static Operand<TFloat64> norm(Ops tf, Operand<TFloat64> x) {
        return tf.math.sqrt(tf.reduceSum(tf.math.square(x), StepPlanGraph.allAxes(tf, x)));
    }

    /** @return each variable's L2 norm, in float64, stacked into one vector named {@code weight_norms} */
    private static Output<TFloat64> weightNorms(Ops tf, List<Output<? extends TType>> vars) {
        List<Operand<TFloat64>> wn = new ArrayList<>();
        for (Output<? extends TType> v : vars) {
            wn.add(norm(tf, tf.dtypes.cast(v, TFloat64.class)));
        }
        return tf.withName("weight_norms").stack(wn).asOutput();
    }
}
