package io.gradguard.tensorflow;

import io.gradguard.core.ConfigSources;
import io.gradguard.core.Guard;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.InvalidConfigException;
import io.gradguard.core.event.RunSummary;
import io.gradguard.tensorflow.internal.GuardedGraph;
import io.gradguard.tensorflow.internal.TfGuardSession;
import java.util.List;
import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.framework.optimizers.Optimizer.GradAndVar;
import org.tensorflow.op.Op;
import org.tensorflow.types.family.TType;

/**
 * Guards a TensorFlow Java graph-mode optimizer (GradientDescent, Momentum, Adam, RMSProp, AdaGrad,
 * ...): the global gradient norm, the non-finite check, clipping, skipping, the learning-rate scale
 * and the rollback snapshot are built into the graph around the optimizer's update, and the guard's
 * numbers travel with the train op's own {@code Session.run}.
 *
 * <pre>{@code
 * GuardedOptimizer opt = GuardedOptimizer.wrap(new Adam(graph, 0.001f));   // config: -Dgradguard.* / GRADGUARD_*
 * Op train = opt.minimize(loss);
 * try (Session session = new Session(graph)) {
 *     for (...) {
 *         try (Result r = opt.run(session, session.runner().feed(x, xs).feed(y, ys).addTarget(train).fetch(loss))) {
 *             float l = ((TFloat32) r.get(0)).getFloat();
 *         }
 *     }
 * }
 * opt.close();   // run summary, event log closed
 * }</pre>
 *
 * <p>Run the train op through {@link #run}: it feeds the guard's plan and reads the step's numbers (one
 * extra fetch, appended after yours, so your indices are unchanged). A train op run without it still
 * skips non-finite steps in the graph, but the guard learns nothing and does not clip or roll back.
 * One optimizer, one train op: call {@code minimize} (or {@code applyGradients}) once.
 */
public final class GuardedOptimizer implements AutoCloseable {

    private final Optimizer optimizer;
    private final GuardConfig config;
    private Operand<?> loss;
    private GuardedGraph graph;
    private TfGuardSession session;
    private Op train;

    private GuardedOptimizer(Optimizer optimizer, GuardConfig config) {
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.config = Objects.requireNonNull(config, "config");
    }

    /**
     * Wraps an optimizer with the configuration from {@code -Dgradguard.*} properties and
     * {@code GRADGUARD_*} environment variables (defaults otherwise).
     *
     * @param optimizer the optimizer
     * @return the guarded optimizer
     * @throws InvalidConfigException when a property or variable holds a bad value
     */
    public static GuardedOptimizer wrap(Optimizer optimizer) {
        return wrap(optimizer, ConfigSources.fromEnvironment());
    }

    /**
     * Wraps an optimizer.
     *
     * @param optimizer the optimizer
     * @param config the configuration
     * @return the guarded optimizer
     */
    public static GuardedOptimizer wrap(Optimizer optimizer, GuardConfig config) {
        return new GuardedOptimizer(optimizer, config);
    }

    /** @return the wrapped optimizer */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** @return the configuration */
    public GuardConfig config() {
        return config;
    }

    /**
     * Builds the guarded train op for a loss, named like the optimizer's own.
     *
     * @param loss the loss
     * @return the train op to run through {@link #run}
     */
    public Op minimize(Operand<?> loss) {
        return minimize(loss, optimizer.getOptimizerName() + "-minimize");
    }

    /**
     * Builds the guarded train op for a loss.
     *
     * @param loss the loss
     * @param name the train op's name
     * @return the train op to run through {@link #run}
     */
    public Op minimize(Operand<?> loss, String name) {
        return applyGradients(computeGradients(loss), name);
    }

    /**
     * The optimizer's gradients of a loss; the loss is remembered for the guard's numbers.
     *
     * @param loss the loss
     * @return the gradients and variables
     */
    public List<GradAndVar<?>> computeGradients(Operand<?> loss) {
        requireNoTrainOp();
        this.loss = Objects.requireNonNull(loss, "loss");
        return optimizer.computeGradients(loss);
    }

    /**
     * Builds the guarded update for gradients (from {@link #computeGradients}, possibly transformed).
     *
     * @param gradsAndVars the gradients and their variables
     * @param name the train op's name
     * @return the train op to run through {@link #run}
     * @throws IllegalStateException when called a second time
     */
    public Op applyGradients(List<GradAndVar<? extends TType>> gradsAndVars, String name) {
        requireNoTrainOp();
        if (config.policy() == io.gradguard.core.Policy.OFF) {
            train = optimizer.applyGradients(gradsAndVars, name);
            return train;
        }
        graph = GuardedGraph.build(optimizer, loss, gradsAndVars, name);
        session = new TfGuardSession(graph, config, "api");
        train = graph.train();
        return train;
    }

    private void requireNoTrainOp() {
        if (train != null) {
            throw new IllegalStateException("this GuardedOptimizer already built its train op '" + train.op().name()
                    + "'; wrap one optimizer per train op (TensorFlow Java 1.x differentiates with respect to every"
                    + " variable in the graph, so one graph takes one optimizer)");
        }
    }

    /**
     * Runs a step: adds the guard's feed and fetch to the runner, runs it, and acts on the numbers
     * (a rollback restores the snapshot with one more, rare, run).
     *
     * @param session the session
     * @param runner a fresh runner of that session, with the train op as a target and your feeds and fetches
     * @return the runner's result; your fetches keep their indices, the guard's stats come last
     * @throws GradGuardDivergedException when the guard halts the run (the variables are back at the last
     *     healthy snapshot)
     */
    public Result run(Session session, Session.Runner runner) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(runner, "runner");
        if (this.session == null) {
            return runner.run();
        }
        TfGuardSession.Pending pending = this.session.beforeRun(runner);
        Result result;
        try {
            result = runner.run();
        } finally {
            if (pending != null) {
                pending.close();
            }
        }
        try {
            this.session.afterRun(session, result, pending);
        } catch (RuntimeException e) {
            result.close();
            throw e;
        }
        return result;
    }

    /** @return the guard (state, learning-rate scale, summary); null before the train op is built or when off */
    public Guard guard() {
        return session == null ? null : session.guard();
    }

    /** @return the totals so far, or null before the train op is built or when off */
    public RunSummary summary() {
        return session == null ? null : session.guard().summary();
    }

    /** @return steps where the graph's action and the guard's decision differed; always 0 unless there is a bug */
    public long mismatches() {
        return session == null ? 0 : session.mismatches();
    }

    /** Writes the run summary and closes the event log. Idempotent. */
    @Override
    public void close() {
        if (session != null) {
            session.close();
        }
    }
}
