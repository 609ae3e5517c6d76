package io.gradguard.djl.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterServer;
import java.util.function.Consumer;

/**
 * Stands between a trainer's parameter store and its real {@link ParameterServer} so that the guard's
 * decision is carried out inside {@code Trainer.step()}, whoever calls it ({@code EasyTrain.fit}, a
 * hand-written loop, the agent). For each parameter: pass the update through, clip, or zero the gradients
 * and skip the optimizer entirely (skip), so that neither the parameters nor the optimizer state (moments,
 * update counts) move. A clip is folded into the optimizer's own gradient factor where DJL's fused update
 * honours it ({@link RescaleFold}: no pass over the gradients); otherwise the gradients are scaled in place
 * first.
 */
public final class GatedParameterServer implements ParameterServer {

    private final ParameterServer delegate;
    private final GradientActuator actuator;
    private volatile double pendingScale = 1.0;
    private volatile RescaleFold fold;
    private volatile Consumer<RuntimeException> onFailure;
    private volatile Runnable beforeUpdate;
    private volatile Object keptAlive;

    /**
     * @param delegate the trainer's real server
     * @param actuator does the in-place gradient arithmetic
     */
    public GatedParameterServer(ParameterServer delegate, GradientActuator actuator) {
        this.delegate = delegate;
        this.actuator = actuator;
    }

    /**
     * Lets clips go through the optimizer's gradient factor instead of a pass over the gradients.
     *
     * @param optimizer the optimizer the wrapped server updates with, or null
     * @return whether clips are folded (false: they scale the gradients in place)
     */
    public boolean foldClipsInto(ai.djl.training.optimizer.Optimizer optimizer) {
        this.fold = RescaleFold.of(optimizer);
        return fold != null;
    }

    /**
     * Holds {@code o} for as long as the trainer holds this server: the agent ties its per-trainer state, which
     * refers to the trainer, to the trainer's own life this way, so that a trainer the application never closes can
     * still be collected (and finalized by DJL) once the application drops it.
     *
     * @param o what to keep alive with the trainer
     */
    public void keepAlive(Object o) {
        this.keptAlive = o;
    }

    /** @return the wrapped server */
    public ParameterServer delegate() {
        return delegate;
    }

    /**
     * Sets what the next {@code Trainer.step()} does: 1 = plain update, (0, 1) = scale gradients first,
     * 0 = skip (zero gradients, no optimizer call). Reset to 1 by {@link #stepDone()}.
     *
     * @param scale the gradient scale of the next step
     */
    public void arm(double scale) {
        this.pendingScale = scale;
    }

    /** Marks the end of the armed step. */
    public void stepDone() {
        this.pendingScale = 1.0;
    }

    /** @return the scale armed for the next step */
    public double armed() {
        return pendingScale;
    }

    @Override
    public void init(String parameterId, NDArray[] value) {
        delegate.init(parameterId, value);
    }

    /**
     * @param listener told when the wrapped server's update throws (the exception is rethrown after)
     */
    public void onUpdateFailure(Consumer<RuntimeException> listener) {
        this.onFailure = listener;
    }

    /**
     * @param hook run before each parameter's update (so once per parameter of every {@code Trainer.step()});
     *     must be cheap
     */
    public void beforeUpdate(Runnable hook) {
        this.beforeUpdate = hook;
    }

    @Override
    public void update(String parameterId, NDArray[] grads, NDArray[] params) {
        Runnable hook = beforeUpdate;
        if (hook != null) {
            hook.run();
        }
        try {
            gatedUpdate(parameterId, grads, params);
        } catch (RuntimeException e) {
            Consumer<RuntimeException> l = onFailure;
            if (l != null) {
                try {
                    l.accept(e);
                } catch (RuntimeException ignored) {
                    // recording the failure must not hide it
                }
            }
            throw e;
        }
    }

    private void gatedUpdate(String parameterId, NDArray[] grads, NDArray[] params) {
        double scale = pendingScale;
        if (scale == 0.0) {
            for (NDArray g : grads) {
                actuator.zero(g);
            }
            return;
        }
        if (scale != 1.0) {
            RescaleFold f = fold;
            if (f != null) {
                f.run(scale, () -> delegate.update(parameterId, grads, params));
                return;
            }
            for (NDArray g : grads) {
                actuator.scale(g, scale);
            }
        }
        delegate.update(parameterId, grads, params);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
