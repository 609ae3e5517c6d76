package io.gradguard.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.training.Trainer;
import io.gradguard.core.ConfigSources;
import io.gradguard.core.Decision;
import io.gradguard.core.Guard;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.event.GuardListener;
import io.gradguard.core.event.RunSummary;
import io.gradguard.djl.internal.DjlGuardSession;

/**
 * GradGuard for hand-written DJL training loops: call {@link #step(Trainer, NDArray)} where the loop
 * called {@code trainer.step()}.
 *
 * <pre>{@code
 * try (DjlGuard guard = new DjlGuard()) {
 *     for (Batch batch : trainer.iterateDataset(data)) {
 *         NDArray loss;
 *         try (GradientCollector gc = trainer.newGradientCollector()) {
 *             loss = trainer.getLoss().evaluate(batch.getLabels(), trainer.forward(batch.getData()));
 *             gc.backward(loss);
 *         }
 *         guard.step(trainer, loss);   // instead of trainer.step()
 *         batch.close();
 *     }
 * }
 * }</pre>
 *
 * <p>A clipped step calls {@code trainer.step()} with the clip coefficient folded into DJL's fused
 * {@code Sgd} / {@code Adam} / {@code AdamW} update (other optimizers: the gradients are scaled in place
 * first); a skipped step zeroes the gradients and does not call it, so neither the parameters nor the
 * optimizer state move.
 */
public final class DjlGuard implements AutoCloseable {

    private final DjlGuardSession session;

    /** The default {@code auto} policy, overridden by {@code gradguard.*} properties and {@code GRADGUARD_*} variables. */
    public DjlGuard() {
        this(ConfigSources.fromEnvironment());
    }

    /**
     * An explicit configuration, used as given.
     *
     * @param config the configuration
     */
    public DjlGuard(GuardConfig config) {
        this.session = new DjlGuardSession(config, "loop");
    }

    /**
     * Adds a listener for the guard's steps and events.
     *
     * @param listener the listener
     * @return this
     */
    public DjlGuard addGuardListener(GuardListener listener) {
        session.guard().addListener(listener);
        return this;
    }

    /**
     * Prepares the trainer ahead of the first step: stands in for DJL's divergence check in its
     * listeners. Optional: {@link #step} does it too, but a loop that calls
     * {@code EasyTrain.trainBatch} should call this first so that a NaN on the very first batch is not
     * turned into an exception by DJL's check.
     *
     * @param trainer the trainer
     * @return this
     */
    public DjlGuard attach(Trainer trainer) {
        session.prepare(trainer, true);
        return this;
    }

    /**
     * Guards one step when the loss is not at hand (loss spikes then go unseen).
     *
     * @param trainer the trainer, after backward
     * @return what was done
     * @throws GradGuardDivergedException when the run cannot be saved
     */
    public Decision step(Trainer trainer) {
        return step(trainer, null);
    }

    /**
     * Guards one step: inspects the gradients, then steps, clips and steps, or skips.
     *
     * @param trainer the trainer, after backward
     * @param loss the batch loss that was back-propagated (not closed here), or null
     * @return what was done
     * @throws GradGuardDivergedException when the run cannot be saved
     */
    public Decision step(Trainer trainer, NDArray loss) {
        if (!session.working()) {
            trainer.step();
            return Decision.step();
        }
        Decision d;
        try {
            session.prepare(trainer, true);
            d = session.inspect(trainer, loss);
            session.carryOut(d, false);
        } catch (GradGuardDivergedException halt) {
            throw halt;
        } catch (RuntimeException e) {
            session.disable(e);
            d = Decision.step();
        }
        if (d.applies()) {
            try {
                trainer.step();
            } catch (RuntimeException e) {
                session.updateFailed(e);
                throw e;
            } finally {
                session.stepDone();
            }
        }
        return d;
    }

    /** @return the core guard */
    public Guard guard() {
        return session.guard();
    }

    /** @return the totals so far */
    public RunSummary summary() {
        return session.guard().summary();
    }

    /** Writes the totals and closes the event log. */
    @Override
    public void close() {
        session.close();
    }
}
