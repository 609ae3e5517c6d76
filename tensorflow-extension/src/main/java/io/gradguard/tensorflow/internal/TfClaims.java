package io.gradguard.tensorflow.internal;

import io.gradguard.core.internal.WeakClaims;
import org.tensorflow.Operand;
import org.tensorflow.framework.optimizers.Optimizer;

/**
 * Who guards what, shared by the API and the agent: the losses optimizers were asked to differentiate,
 * held weakly by optimizer ({@link WeakClaims}), and a flag that is set while GradGuard itself builds (so the agent
 * lets its own calls through).
 */
public final class TfClaims {

    private static final ThreadLocal<int[]> BUILDING = ThreadLocal.withInitial(() -> new int[1]);
    private static final WeakClaims<Optimizer, Operand<?>> LOSSES = new WeakClaims<>();

    private TfClaims() {}

    /** @return true while GradGuard builds a guarded update on this thread */
    public static boolean building() {
        return BUILDING.get()[0] > 0;
    }

    /** Marks the start of a GradGuard build on this thread; pair with {@link #endBuild()}. */
    public static void beginBuild() {
        BUILDING.get()[0]++;
    }

    /** Marks the end of a GradGuard build on this thread. */
    public static void endBuild() {
        BUILDING.get()[0]--;
    }

    /**
     * @param optimizer an optimizer
     * @param loss the loss it was last asked to differentiate
     */
    public static void rememberLoss(Optimizer optimizer, Operand<?> loss) {
        if (optimizer != null && loss != null) {
            LOSSES.put(optimizer, loss);
        }
    }

    /**
     * @param optimizer an optimizer
     * @return the loss it was last asked to differentiate, or null
     */
    public static Operand<?> lossOf(Optimizer optimizer) {
        return LOSSES.get(optimizer);
    }
}
