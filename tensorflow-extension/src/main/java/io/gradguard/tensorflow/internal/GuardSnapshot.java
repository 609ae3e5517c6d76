package io.gradguard.tensorflow.internal;

import io.gradguard.core.internal.Fields;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.SwitchCond;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TBool;
import org.tensorflow.types.family.TType;

/**
 * The guard's one snapshot in the graph: a variable beside every variable a rollback must restore (the trainable
 * ones, then every variable the optimizer holds: slots, Adam's beta powers, ...), the ops that copy the pre-update
 * values into it when the plan asks for a snapshot, and the op that restores it.
 *
 * <p>It also keeps a pre-update copy of each trainable variable, taken when the learning rate is scaled, for the
 * learning-rate scale that {@link GuardedGraph} builds after the update.
 *
 * <p>The optimizer's variables are found by reflection over its fields (variables, and maps or collections of them),
 * so no optimizer needs code of its own; they must exist when this is built, which is why {@link GradientGate} builds
 * it on the optimizer's first request for a gradient.
 */
@SuppressWarnings({"unchecked", "rawtypes"})
final class GuardSnapshot {

    private final List<Output<? extends TType>> state = new ArrayList<>();
    private final int trainable;
    private final List<Variable<?>> snap = new ArrayList<>();
    private final List<Variable<?>> pre = new ArrayList<>();
    private final List<Op> copies = new ArrayList<>();

    private GuardSnapshot(int trainable) {
        this.trainable = trainable;
    }

    /**
     * Builds the snapshot variables, the pre-update copies and the ops that fill them.
     *
     * @param tf the guard's scope
     * @param init the guard's init scope (the variables' initial zeros)
     * @param optimizer the optimizer, whose slots and other variables exist by now
     * @param vars the trainable variables, in gradient order
     * @param snapshot true when the pre-update state is copied into the snapshot
     * @param scaled true when the update runs at a learning-rate scale other than 1
     * @return the snapshot
     * @throws IllegalStateException when a variable to hold has no static shape
     */
    static GuardSnapshot build(Ops tf, Ops init, Optimizer optimizer, List<Output<? extends TType>> vars,
            Operand<TBool> snapshot, Operand<TBool> scaled) {
        GuardSnapshot s = new GuardSnapshot(vars.size());
        // every variable a rollback must restore: the trainable ones, then the optimizer's own
        IdentityHashMap<Object, Boolean> seen = new IdentityHashMap<>();
        Map<String, Output<? extends TType>> byName = new LinkedHashMap<>();
        for (Output<? extends TType> v : vars) {
            byName.put(v.op().name(), v);
        }
        collectOptimizerVariables(optimizer, optimizer.getClass(), seen, byName);
        s.state.addAll(byName.values());
        for (int i = 0; i < s.state.size(); i++) {
            Output o = s.state.get(i);
            Shape shape = o.shape();
            if (shape.isUnknown() || shape.hasUnknownDimension()) {
                throw new IllegalStateException("variable " + o.op().name() + " has no static shape " + shape
                        + "; GradGuard cannot hold a snapshot of it");
            }
            Variable sv = init.withSubScope("snapshot").variable(
                    init.zeros(init.constant(shape.asArray()), o.type()));
            s.snap.add(sv);
            s.copies.add(copyIf(tf, sv, o, snapshot));
            if (i < vars.size()) {
                Variable pv = init.withSubScope("before").variable(
                        init.zeros(init.constant(shape.asArray()), o.type()));
                s.pre.add(pv);
                s.copies.add(copyIf(tf, pv, o, scaled));
            }
        }
        return s;
    }

    /** Assigns {@code value} to {@code target} when {@code when} holds; the merge is live either way. */
    private static Op copyIf(Ops tf, Variable target, Output value, Operand<TBool> when) {
        SwitchCond sw = tf.switchCond(tf.identity(value), when);
        Op copied = tf.assign(target, sw.outputTrue());
        return tf.merge(List.of(((Assign) copied).outputRef(), sw.outputFalse()));
    }

    /** @return the ops that fill the snapshot and the pre-update copies; the update must wait for them */
    List<Op> copies() {
        return copies;
    }

    /**
     * @param i a trainable variable's index, in gradient order
     * @return its pre-update copy
     */
    Variable<?> pre(int i) {
        return pre.get(i);
    }

    /**
     * @param i a trainable variable's index, in gradient order
     * @return its snapshot variable (the pre-update value of the step that last took a snapshot)
     */
    Variable<?> held(int i) {
        return snap.get(i);
    }

    /** @return the names of the optimizer's variables the snapshot holds besides the trainable ones */
    List<String> stateNames() {
        List<String> out = new ArrayList<>();
        for (int i = trainable; i < state.size(); i++) {
            out.add(state.get(i).op().name());
        }
        return out;
    }

    /**
     * Builds the op that puts every held variable back to its snapshot.
     *
     * @param tf the guard's scope
     * @return the op, named {@code restore}
     */
    Op restoreOp(Ops tf) {
        List<Op> restores = new ArrayList<>();
        for (int i = 0; i < state.size(); i++) {
            restores.add(tf.assign((Output) state.get(i), (Operand) snap.get(i)));
        }
        return tf.withName("restore").withControlDependencies(restores).noOp();
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
