package io.gradguard.tensorflow.internal;

import io.gradguard.core.internal.Fields;
import java.lang.reflect.Field;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.framework.optimizers.Optimizer.GradAndVar;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.SwitchCond;
import org.tensorflow.types.TBool;
import org.tensorflow.types.family.TType;

/**
 * Puts the optimizer's update behind the guard's decision: the gradients it is handed are multiplied by the clip
 * coefficient and routed through a {@code Switch} on "apply", and every op it builds afterwards depends on a barrier
 * that is dead on a skip and waits for the {@link GuardSnapshot}'s copies, so on a skip nothing moves and on a
 * snapshot the copy precedes every update.
 *
 * <p>It builds lazily, on the optimizer's first request for a gradient: {@code applyGradients} creates the
 * optimizer's slots before that, so the snapshot can hold them. The optimizer's own prepare and finish ops (Adam's
 * beta powers, ...) are built with its {@code tf} field, which is swapped for one with the barrier as a control
 * dependency until {@link #restoreTf()}. A failure while building is kept and thrown by {@link #check()}, after
 * {@code applyGradients} returns, rather than into the optimizer.
 */
@SuppressWarnings({"unchecked", "rawtypes"})
final class GradientGate {

    private static final Field TF_FIELD = Fields.find(Optimizer.class, "tf");

    private final Optimizer optimizer;
    private final Ops tf;
    private final Ops init;
    private final Ops original;
    private final StepPlanGraph step;
    private final Output[] gated;
    private GuardSnapshot snapshot;
    private boolean built;
    private boolean swapped;
    private RuntimeException failure;

    /**
     * @param optimizer the user's optimizer
     * @param tf the guard's scope
     * @param init the guard's init scope
     * @param original the optimizer's own {@code tf}, put back by {@link #restoreTf()}
     * @param step the numbers and the decision the gate follows
     */
    GradientGate(Optimizer optimizer, Ops tf, Ops init, Ops original, StepPlanGraph step) {
        this.optimizer = optimizer;
        this.tf = tf;
        this.init = init;
        this.original = original;
        this.step = step;
        this.gated = new Output[step.grads.size()];
    }

    /** @return false when this TensorFlow Java's {@code Optimizer} has no {@code tf} field to swap */
    static boolean supported() {
        return TF_FIELD != null;
    }

    /**
     * @param i a gradient's index
     * @return the gradient and its variable, whose gradient is the gated one once built
     */
    GradAndVar<? extends TType> gradAndVar(int i) {
        Output g = step.grads.get(i);
        Output v = step.vars.get(i);
        return new GradAndVar(g, v) {
            @Override
            public Output getGradient() {
                ensureBuilt();
                return gated[i] != null ? gated[i] : g;
            }
        };
    }

    private void ensureBuilt() {
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
        snapshot = GuardSnapshot.build(tf, init, optimizer, step.vars, step.snapshot, step.scaled);
        // dead on a skip: everything the optimizer builds from here on depends on it
        SwitchCond<TBool> gate = tf.switchCond(step.apply, step.apply);
        Op barrier = tf.withControlDependencies(snapshot.copies()).identity(gate.outputTrue());
        Ops gatedTf = tf.withControlDependencies(List.of(barrier));
        for (int i = 0; i < step.grads.size(); i++) {
            Output g = step.grads.get(i);
            Operand c = tf.dtypes.cast(step.coef, g.type());
            SwitchCond sw = tf.switchCond(tf.math.mul(g, c), step.apply);
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

    /**
     * Gives the optimizer its own {@code tf} back; call once {@code applyGradients} returns or throws.
     *
     * @throws IllegalStateException when the field cannot be set
     */
    void restoreTf() {
        if (swapped) {
            try {
                TF_FIELD.set(optimizer, original);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot restore the optimizer's ops", e);
            }
        }
    }

    /**
     * @throws RuntimeException the failure kept while building
     * @throws IllegalStateException when the optimizer never asked for a gradient, so nothing was gated
     */
    void check() {
        if (failure != null) {
            throw failure;
        }
        if (!built) {
            throw new IllegalStateException(optimizer.getClass().getName() + ".applyGradients never asked for the gradients");
        }
    }

    /** @return the snapshot, once built */
    GuardSnapshot snapshot() {
        return snapshot;
    }
}
