package io.gradguard.djl.internal;

import ai.djl.training.LocalParameterServer;
import ai.djl.training.ParameterServer;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import io.gradguard.core.internal.Fields;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;

/** Finds a trainer's {@link Optimizer} and lays the guard's learning-rate scale over its trackers. */
public final class OptimizerAccess {

    private OptimizerAccess() {}

    /**
     * @param trainer the trainer
     * @return its optimizer, or null when this DJL version hides it differently
     */
    public static Optimizer optimizer(Trainer trainer) {
        ParameterStore store = TrainerAccess.parameterStore(trainer);
        ParameterServer server = store == null ? null : TrainerAccess.parameterServer(store);
        if (server instanceof GatedParameterServer gated) {
            server = gated.delegate();
        }
        if (!(server instanceof LocalParameterServer)) {
            return null;
        }
        return Fields.read(server, LocalParameterServer.class, "optimizer") instanceof Optimizer o ? o : null;
    }

    /**
     * @param optimizer an optimizer
     * @return every non-static field of its class chain, subclass first
     */
    static List<Field> fields(Optimizer optimizer) {
        return Fields.instanceFields(optimizer.getClass());
    }

    /**
     * @param optimizer an optimizer
     * @return how many per-parameter state maps it has (its Map fields other than update counts)
     */
    static int stateMapCount(Optimizer optimizer) {
        int n = 0;
        for (Field f : fields(optimizer)) {
            if (java.util.Map.class.isAssignableFrom(f.getType()) && f.getDeclaringClass() != Optimizer.class) {
                n++;
            }
        }
        return n;
    }

    /** The optimizer's learning-rate tracker fields, made accessible (those that cannot be are left out). */
    private static List<Field> trackerFields(Optimizer optimizer) {
        List<Field> out = new ArrayList<>();
        for (Field f : fields(optimizer)) {
            if (ParameterTracker.class.isAssignableFrom(f.getType())) {
                try {
                    f.setAccessible(true);
                    out.add(f);
                } catch (RuntimeException e) {
                    // leave this field alone
                }
            }
        }
        return out;
    }

    /**
     * Replaces every learning-rate tracker of the optimizer with one that returns {@code lr} (read live),
     * for a learning-rate sweep.
     *
     * @param optimizer the optimizer
     * @param lr the learning rate to use
     * @return puts the original trackers back; null when the optimizer has no tracker field
     */
    public static Runnable overrideLearningRate(Optimizer optimizer, DoubleSupplier lr) {
        List<Field> replaced = new ArrayList<>();
        List<Object> originals = new ArrayList<>();
        for (Field f : trackerFields(optimizer)) {
            try {
                Object v = f.get(optimizer);
                f.set(optimizer, (ParameterTracker) (id, n) -> (float) lr.getAsDouble());
                replaced.add(f);
                originals.add(v);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // leave this field alone
            }
        }
        if (replaced.isEmpty()) {
            return null;
        }
        return () -> {
            for (int i = 0; i < replaced.size(); i++) {
                try {
                    replaced.get(i).set(optimizer, originals.get(i));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }

    /**
     * A linear learning-rate warm-up as a scale for {@link #scaleLearningRate}: 1/N on the first update, rising by
     * 1/N per update, 1 from update N on.
     *
     * @param steps N, the warm-up's updates (at least 1)
     * @param done the updates made so far
     * @return the scale
     */
    public static DoubleSupplier linearWarmUp(int steps, IntSupplier done) {
        return () -> Math.min(1.0, (done.getAsInt() + 1.0) / steps);
    }

    /**
     * Wraps every learning-rate tracker of the optimizer in a {@link ScaledTracker}; a tracker that is
     * already wrapped is pointed at the new scale. Idempotent.
     *
     * @param optimizer the optimizer
     * @param scale the guard's scale
     * @return how many trackers are scaled (0: the scale cannot be applied)
     */
    public static int scaleLearningRate(Optimizer optimizer, DoubleSupplier scale) {
        int n = 0;
        for (Field f : trackerFields(optimizer)) {
            try {
                Object v = f.get(optimizer);
                if (v instanceof ScaledTracker st) {
                    st.retarget(scale);
                    n++;
                } else if (v instanceof ParameterTracker t) {
                    f.set(optimizer, new ScaledTracker(t, scale));
                    n++;
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                // leave this field alone
            }
        }
        return n;
    }
    /**
     * The learning rate the optimizer's first tracker gives for an update, read without changing it.
     *
     * @param optimizer the optimizer
     * @param update the update count to ask for (1 for the first update)
     * @return the learning rate, or NaN when the optimizer has no readable tracker
     */
    public static double learningRate(Optimizer optimizer, int update) {
        for (Field f : trackerFields(optimizer)) {
            try {
                if (f.get(optimizer) instanceof ParameterTracker t) {
                    return t.getNewValue("gradguard-probe", update);
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                // try the next field
            }
        }
        return Double.NaN;
    }

    /**
     * @param optimizer the optimizer
     * @return the value of its float field {@code momentum} (DJL's {@code Sgd}), or 0 when it has none
     */
    public static double momentum(Optimizer optimizer) {
        for (Field f : fields(optimizer)) {
            if (f.getName().equals("momentum") && f.getType() == float.class) {
                try {
                    f.setAccessible(true);
                    return f.getFloat(optimizer);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    return 0;
                }
            }
        }
        return 0;
    }
}
