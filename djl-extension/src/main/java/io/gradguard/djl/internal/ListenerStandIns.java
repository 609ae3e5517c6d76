package io.gradguard.djl.internal;

import ai.djl.training.Trainer;
import ai.djl.training.listener.DivergenceCheckTrainingListener;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.listener.TrainingListener;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The guard's stand-ins in a trainer's listener list: a {@link GuardedDivergenceCheck} in place of DJL's
 * {@code DivergenceCheckTrainingListener} and a {@link DeferredEvaluatorListener} in place of each
 * {@code EvaluatorTrainingListener}, at the same positions; every other listener is left as it is. Stand-ins that
 * another guard put in (the agent's, before the application's own guard took the trainer over) are taken over, so
 * that they always answer to the trainer's current guard.
 */
final class ListenerStandIns {

    private final DjlGuardSession session;
    private final List<DeferredEvaluatorListener> evaluators = new ArrayList<>();

    /**
     * @param session the guard the stand-ins answer to
     */
    ListenerStandIns(DjlGuardSession session) {
        this.session = session;
    }

    /**
     * Puts the stand-ins in (when the guard acts) and takes over those already there.
     *
     * @param t the trainer
     * @param wrap whether to replace DJL's listeners (the guard acts on the run)
     * @param warn receives a warning when the listener list cannot be reached or changed
     */
    void install(Trainer t, boolean wrap, Consumer<String> warn) {
        List<TrainingListener> listeners = TrainerAccess.listeners(t);
        if (listeners == null) {
            if (wrap) {
                warn.accept("could not reach the trainer's listeners: DJL's DivergenceCheckTrainingListener, if"
                        + " present, will still abort on the first NaN loss");
            }
            return;
        }
        try {
            for (int i = 0; i < listeners.size(); i++) {
                TrainingListener l = listeners.get(i);
                if (l instanceof GuardedDivergenceCheck g) {
                    g.retarget(session::acts);
                } else if (l instanceof DeferredEvaluatorListener d) {
                    d.retarget(session);
                    if (!evaluators.contains(d)) {
                        evaluators.add(d);
                    }
                } else if (wrap && l instanceof DivergenceCheckTrainingListener) {
                    listeners.set(i, new GuardedDivergenceCheck(l, session::acts));
                } else if (wrap && l instanceof EvaluatorTrainingListener e) {
                    DeferredEvaluatorListener d = new DeferredEvaluatorListener(e, session);
                    evaluators.add(d);
                    listeners.set(i, d);
                }
            }
        } catch (UnsupportedOperationException e) {
            warn.accept("the trainer's listener list is immutable: DJL's DivergenceCheckTrainingListener, if present,"
                    + " will still abort on the first NaN loss");
        }
    }

    /**
     * The guard decided on the current batch: the evaluators get it now, or never.
     *
     * @param applied whether the update was applied (step or clip)
     */
    void decided(boolean applied) {
        for (DeferredEvaluatorListener e : evaluators) {
            e.decided(applied);
        }
    }
}
