package io.gradguard.tensorflow.internal;

import io.gradguard.core.Action;
import io.gradguard.core.Decision;
import io.gradguard.core.Guard;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.GuardSession;
import io.gradguard.core.RunInfo;
import io.gradguard.core.StepPlan;
import io.gradguard.core.StepStats;
import io.gradguard.core.diagnose.RunDiagnosis;
import io.gradguard.core.internal.Fields;
import io.gradguard.tensorflow.GradGuardDivergedException;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.TensorFlow;
import org.tensorflow.types.TFloat64;

/**
 * One guarded TensorFlow training run: before each run of the train op it feeds the guard's
 * {@link StepPlan} and asks for the stats vector; after it, it hands the numbers to the {@link Guard}
 * and carries out a rollback or a halt. Shared by the API and the agent.
 *
 * <p>Fail-open: an unexpected error while reading the numbers disables the guard with one warning; the
 * graph then runs on its default plan, which still skips non-finite steps.
 */
public final class TfGuardSession extends GuardSession {

    private final GuardedGraph graph;
    private boolean begun;
    private boolean warnedMismatch;
    private Session session;
    private long mismatches;

    private static final Field INPUTS = Fields.find(Session.Runner.class, "inputs");
    private static final Field INPUT_TENSORS = Fields.find(Session.Runner.class, "inputTensors");
    private static final Field OUTPUTS = Fields.find(Session.Runner.class, "outputs");

    /** A run in flight: the plan fed to it. */
    public static final class Pending implements AutoCloseable {
        final StepPlan plan;
        final TFloat64 planTensor;
        final int fetchIndex;

        Pending(StepPlan plan, TFloat64 planTensor, int fetchIndex) {
            this.plan = plan;
            this.planTensor = planTensor;
            this.fetchIndex = fetchIndex;
        }

        /** @return the plan fed to this run */
        public StepPlan plan() {
            return plan;
        }

        @Override
        public void close() {
            planTensor.close();
        }
    }

    /**
     * @param graph the guarded graph
     * @param config the configuration
     * @param attachment how the guard is attached ("api", "agent")
     */
    public TfGuardSession(GuardedGraph graph, GuardConfig config, String attachment) {
        super(config, attachment);
        this.graph = graph;
    }

    /** @return the guarded graph */
    public GuardedGraph graph() {
        return graph;
    }

    /** @return steps where the graph's action and the guard's decision differed (should be 0) */
    public long mismatches() {
        return mismatches;
    }

    /** @return true when the guard has stepped aside after an internal error */
    public boolean disabled() {
        return steppedAside();
    }

    /**
     * Adds the plan feed and the stats fetch to a runner that runs the train op (a runner
     * that already has them, because it is used again, gets a new plan in place).
     *
     * @param runner the runner, before {@code run()}
     * @return the run in flight, or null when the guard is inactive
     */
    public synchronized Pending beforeRun(Session.Runner runner) {
        if (steppedAside() || !guard().active()) {
            return null;
        }
        try {
            if (!begun) {
                begin();
            }
            StepPlan plan = guard().plan(steps());
            TFloat64 t = TFloat64.vectorOf(plan.toArray());
            // a runner used for several runs already has the guard's feed and fetch: replace the plan
            List<Object> inputs = list(INPUTS, runner);
            List<Object> tensors = list(INPUT_TENSORS, runner);
            List<Object> outputs = list(OUTPUTS, runner);
            int feedAt = inputs == null ? -1 : inputs.indexOf(graph.plan().asOutput());
            if (feedAt >= 0 && tensors != null) {
                tensors.set(feedAt, t);
            } else {
                runner.feed(graph.plan(), t);
            }
            int fetchAt = outputs == null ? -1 : outputs.indexOf(graph.stats());
            if (fetchAt < 0) {
                runner.fetch(graph.stats());
                fetchAt = outputs == null ? -1 : outputs.size() - 1;
            }
            return new Pending(plan, t, fetchAt);
        } catch (RuntimeException e) {
            disable("could not prepare the run: " + e, e);
            return null;
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Field f, Session.Runner runner) {
        try {
            return f == null ? null : (List<Object>) f.get(runner);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private void begin() {
        begun = true;
        List<RunInfo.Parameter> params = new ArrayList<>();
        for (int i = 0; i < graph.names().size(); i++) {
            params.add(new RunInfo.Parameter(graph.names().get(i), graph.sizes().get(i)));
        }
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("optimizer", graph.optimizerName());
        extra.put("optimizer_state_variables", graph.stateNames().size());
        extra.put("loss_known", graph.lossKnown());
        guard().begin(new RunInfo("TensorFlow Java / TensorFlow " + TensorFlow.version() + " (graph mode)",
                "session default", attachment(), params, extra));
    }

    /**
     * Reads the step's numbers from the result, decides, and carries out a rollback or a halt.
     *
     * @param session the session that ran the step (for the rare restore run)
     * @param result the run's result; the stats are its last output
     * @param pending what {@link #beforeRun} returned
     * @throws GradGuardDivergedException when the guard halts the run
     */
    public synchronized void afterRun(Session session, Result result, Pending pending) {
        if (pending == null || steppedAside()) {
            return;
        }
        Decision d;
        long thisStep = steps();
        boolean applied;
        boolean snapped;
        double coef;
        try {
            TFloat64 stats = (TFloat64) result.get(pending.fetchIndex >= 0 ? pending.fetchIndex : result.size() - 1);
            int n = graph.names().size();
            double[] norms = new double[n];
            for (int i = 0; i < n; i++) {
                norms[i] = Math.sqrt(stats.getDouble(i));
            }
            double norm = stats.getDouble(n + GuardedGraph.STAT_NORM);
            double loss = stats.getDouble(n + GuardedGraph.STAT_LOSS);
            applied = stats.getDouble(n + GuardedGraph.STAT_APPLIED) > 0.5;
            coef = stats.getDouble(n + GuardedGraph.STAT_COEF);
            snapped = stats.getDouble(n + GuardedGraph.STAT_SNAPSHOT) > 0.5;
            StepStats s = new StepStats(thisStep, graph.lossKnown() ? loss : Double.NaN, graph.lossKnown(), norm, norms);
            this.session = session;
            if (thisStep == 0 && s.gradientsFinite()) {
                firstStepFlow(session, norms, snapped);
            }
            d = decideAndAct(s, weightNorms(session));
        } catch (RuntimeException e) {
            disable("could not read the step's numbers: " + e, e);
            return;
        } finally {
            this.session = null;
        }
        switch (d.action()) {
            case STEP, CLIP, SKIP -> check(thisStep, d, applied, coef, snapped);
            case ROLLBACK -> { }
            case ABORT -> throw halt(d);
        }
    }

    /** The graph snapshots in the step itself (the plan told it to); nothing to do here. */
    @Override
    protected void takeSnapshot(long step) {
    }

    @Override
    protected void snapshotFailed() {
    }

    @Override
    protected void restoreSnapshot() {
        try (Result r = session.runner().addTarget(graph.restore()).run()) {
            // nothing to read: the restore is the run's effect
        }
    }

    @Override
    protected RuntimeException newHalt(long step, String reason, RunDiagnosis diagnosis) {
        return new GradGuardDivergedException(step, reason, diagnosis);
    }

    private void check(long s, Decision d, boolean applied, double coef, boolean snapped) {
        Action graphAction = !applied ? Action.SKIP : coef < 1.0 ? Action.CLIP : Action.STEP;
        boolean same = graphAction == d.action() && (d.action() != Action.CLIP || coef == d.clipCoef())
                && snapped == d.snapshot();
        if (same) {
            return;
        }
        mismatches++;
        if (!warnedMismatch) {
            warnedMismatch = true;
            guard().warning(s, "the graph did " + graphAction + (graphAction == Action.CLIP ? " x" + coef : "")
                    + (snapped ? " with a snapshot" : "") + " but the guard decided " + d.action()
                    + (d.snapshot() ? " with a snapshot" : "") + "; please report this");
        }
        if (snapped != d.snapshot()) {
            guard().disableRollback("the in-graph snapshot and the guard disagree about which step it holds");
        }
    }

    /**
     * The first step's gradient-flow check: a warning, never an action. The pre-update weights are in the snapshot
     * the step took (no snapshot: the trend alone); a failure to read them leaves the check out.
     */
    private void firstStepFlow(Session session, double[] grads, boolean snapped) {
        double[] held = snapped ? fetch(session, graph.firstStepNorms()) : null;
        String w = TfFirstStepFlow.warning(graph.names(), graph.ranks(), grads, held);
        if (w != null) {
            guard().warning(0, w);
        }
    }

    private Supplier<double[]> weightNorms(Session session) {
        return () -> fetch(session, graph.weightNorms());
    }

    /** Runs one of the guard's vectors on its own; null when the run fails. */
    private static double[] fetch(Session session, Output<TFloat64> vector) {
        try (Result r = session.runner().fetch(vector).run()) {
            TFloat64 w = (TFloat64) r.get(0);
            double[] out = new double[(int) w.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = w.getDouble(i);
            }
            return out;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private void disable(String why, RuntimeException error) {
        stepAside("GradGuard stepped aside: " + why + "; the graph still skips non-finite steps", error);
    }
}
