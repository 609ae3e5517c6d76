package io.gradguard.agent;

/**
 * The one place advice calls into. It holds no engine type, so advice inlined into DJL classes stays
 * valid even where the hooks cannot be loaded; until the agent installs hooks, every call is a no-op.
 * Each method is called from inside {@code suppress = Throwable.class} advice and catches nothing
 * itself: the hooks catch and report their own failures.
 */
public final class AgentDispatch {

    /** What the advice reports. Implemented per engine. */
    public interface Hooks {
        /**
         * A trainer was constructed.
         *
         * @param trainer the trainer
         */
        void trainerCreated(Object trainer);

        /**
         * {@code Trainer.step()} is about to run.
         *
         * @param trainer the trainer
         * @return true to skip the method body (a skipped, rolled-back or halted step)
         */
        boolean beforeStep(Object trainer);

        /**
         * @param trainer the trainer
         * @return the halt to throw from {@code Trainer.step()}, or null
         */
        Throwable takeHalt(Object trainer);

        /**
         * {@code GradientCollector.backward(loss)} was called.
         *
         * @param loss the loss array
         */
        void backward(Object loss);

        /**
         * A trainer is being closed.
         *
         * @param trainer the trainer
         */
        void trainerClosed(Object trainer);
    }

    private static volatile Hooks hooks;

    private AgentDispatch() {}

    /**
     * @param h the hooks to call from now on (null: none)
     */
    public static void install(Hooks h) {
        hooks = h;
    }

    /** @return the installed hooks, or null */
    public static Hooks hooks() {
        return hooks;
    }

    /**
     * @param trainer the trainer
     */
    public static void trainerCreated(Object trainer) {
        Hooks h = hooks;
        if (h != null) {
            h.trainerCreated(trainer);
        }
    }

    /**
     * @param trainer the trainer
     * @return true to skip {@code Trainer.step()}'s body
     */
    public static boolean beforeStep(Object trainer) {
        Hooks h = hooks;
        return h != null && h.beforeStep(trainer);
    }

    /**
     * @param trainer the trainer
     * @return the halt to throw, or null
     */
    public static Throwable takeHalt(Object trainer) {
        Hooks h = hooks;
        return h == null ? null : h.takeHalt(trainer);
    }

    /**
     * @param loss the loss
     */
    public static void backward(Object loss) {
        Hooks h = hooks;
        if (h != null) {
            h.backward(loss);
        }
    }

    /**
     * @param trainer the trainer
     */
    public static void trainerClosed(Object trainer) {
        Hooks h = hooks;
        if (h != null) {
            h.trainerClosed(trainer);
        }
    }

    /** What the TensorFlow advice reports. */
    public interface TfHooks {
        /**
         * @param optimizer an optimizer
         * @param loss the loss it differentiates
         */
        void computeGradients(Object optimizer, Object loss);

        /**
         * @param optimizer an optimizer
         * @param gradsAndVars its gradients
         * @param name the train op's name
         * @return the guarded train op, or null to let the optimizer build its own
         */
        Object applyGradients(Object optimizer, Object gradsAndVars, Object name);

        /**
         * @param runner a runner about to run
         * @return the run in flight, or null when it does not run a guarded train op
         */
        Object beforeRun(Object runner);

        /**
         * @param runner the runner
         * @param pending what {@link #beforeRun} returned
         * @param result the run's result (null when it threw)
         * @param thrown what the run threw, or null
         * @return a halt to throw instead, or null
         */
        Throwable afterRun(Object runner, Object pending, Object result, Throwable thrown);
    }

    private static volatile TfHooks tfHooks;

    /**
     * Installs the TensorFlow hooks.
     *
     * @param h the hooks
     */
    public static void installTf(TfHooks h) {
        tfHooks = h;
    }

    /**
     * @param optimizer an optimizer
     * @param loss the loss it differentiates
     */
    public static void tfComputeGradients(Object optimizer, Object loss) {
        TfHooks h = tfHooks;
        if (h != null) {
            h.computeGradients(optimizer, loss);
        }
    }

    /**
     * @param optimizer an optimizer
     * @param gradsAndVars its gradients
     * @param name the train op's name
     * @return the guarded train op, or null
     */
    public static Object tfApplyGradients(Object optimizer, Object gradsAndVars, Object name) {
        TfHooks h = tfHooks;
        return h == null ? null : h.applyGradients(optimizer, gradsAndVars, name);
    }

    /**
     * @param runner a runner about to run
     * @return the run in flight, or null
     */
    public static Object tfBeforeRun(Object runner) {
        TfHooks h = tfHooks;
        return h == null ? null : h.beforeRun(runner);
    }

    /**
     * @param runner the runner
     * @param pending the run in flight
     * @param result the result
     * @param thrown what the run threw
     * @return a halt to throw instead, or null
     */
    public static Throwable tfAfterRun(Object runner, Object pending, Object result, Throwable thrown) {
        TfHooks h = tfHooks;
        return h == null ? null : h.afterRun(runner, pending, result, thrown);
    }
}
