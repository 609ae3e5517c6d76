package io.gradguard.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListenerAdapter;
import io.gradguard.core.ConfigSources;
import io.gradguard.core.Decision;
import io.gradguard.core.Guard;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.event.GuardListener;
import io.gradguard.core.event.RunSummary;
import io.gradguard.djl.internal.DjlGuardSession;
import java.util.Map;

/**
 * GradGuard as a DJL {@link ai.djl.training.listener.TrainingListener}: add it to the training config of
 * an {@code EasyTrain.fit} run and every step is inspected after backward and, where needed, clipped or
 * skipped inside the following {@code trainer.step()}.
 *
 * <pre>{@code
 * DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss())
 *         .addTrainingListeners(TrainingListener.Defaults.basic())
 *         .addTrainingListeners(new GradGuardListener());
 * }</pre>
 *
 * <p>While it acts (policy {@code auto} or {@code clip}), it stands in for DJL's
 * {@code DivergenceCheckTrainingListener}, whatever the listener order, so that a NaN step it skips does
 * not abort the run; when the run cannot be saved it throws {@link GradGuardDivergedException}, a
 * {@code TrainingDivergedException}. One listener guards one trainer at a time.
 */
public class GradGuardListener extends TrainingListenerAdapter implements AutoCloseable {

    private final DjlGuardSession session;

    /**
     * The default {@code auto} policy, overridden by {@code gradguard.*} system properties and
     * {@code GRADGUARD_*} environment variables (so {@code -Dgradguard.log=run.jsonl} works without a
     * code change).
     *
     * @throws io.gradguard.core.InvalidConfigException naming the bad key, value and source
     */
    public GradGuardListener() {
        this(ConfigSources.fromEnvironment());
    }

    /**
     * An explicit configuration, used as given.
     *
     * @param config the configuration
     */
    public GradGuardListener(GuardConfig config) {
        this.session = new DjlGuardSession(config, "listener");
    }

    /**
     * Adds a listener for the guard's steps and events.
     *
     * @param listener the listener; its exceptions never reach training
     * @return this
     */
    public GradGuardListener addGuardListener(GuardListener listener) {
        session.guard().addListener(listener);
        return this;
    }

    /** @return the core guard (state, config, summary) */
    public Guard guard() {
        return session.guard();
    }

    /** @return the totals so far */
    public RunSummary summary() {
        return session.guard().summary();
    }

    @Override
    public void onTrainingBegin(Trainer trainer) {
        try {
            session.prepare(trainer, true);
        } catch (RuntimeException e) {
            session.disable(e);
        }
    }

    @Override
    public void onTrainingBatch(Trainer trainer, BatchData batchData) {
        if (!session.working()) {
            return;
        }
        NDArray loss = null;
        try {
            loss = batchLoss(trainer, batchData);
            Decision d = session.inspect(trainer, loss, batchData);
            session.carryOut(d, true);
        } catch (GradGuardDivergedException halt) {
            throw halt;
        } catch (RuntimeException e) {
            session.disable(e);
        } finally {
            if (loss != null) {
                loss.close();
            }
        }
    }

    @Override
    public void onTrainingEnd(Trainer trainer) {
        session.close();
    }

    /** Closes the guard (writes the totals, closes the event log); also done at the end of training. */
    @Override
    public void close() {
        session.close();
    }

    /**
     * The batch loss, averaged over devices, recomputed from the labels and predictions DJL hands to
     * listeners (EasyTrain does not pass the loss itself).
     */
    private static NDArray batchLoss(Trainer trainer, BatchData batchData) {
        Map<Device, NDList> labels = batchData.getLabels();
        Map<Device, NDList> preds = batchData.getPredictions();
        NDArray sum = null;
        int count = 0;
        for (Map.Entry<Device, NDList> e : labels.entrySet()) {
            NDList p = preds.get(e.getKey());
            if (p == null) {
                continue;
            }
            NDArray l = trainer.getLoss().evaluate(e.getValue(), p);
            if (sum == null) {
                sum = l;
            } else {
                NDArray moved = l.toDevice(sum.getDevice(), false);
                NDArray next = sum.add(moved);
                sum.close();
                if (moved != l) {
                    moved.close();
                }
                l.close();
                sum = next;
            }
            count++;
        }
        if (sum != null && count > 1) {
            NDArray mean = sum.div(count);
            sum.close();
            sum = mean;
        }
        return sum;
    }
}
