package io.gradguard.agent;

import io.gradguard.core.internal.Fields;
import io.gradguard.tensorflow.GradGuardDivergedException;
import io.gradguard.tensorflow.internal.GuardedGraph;
import io.gradguard.tensorflow.internal.TfClaims;
import io.gradguard.tensorflow.internal.TfGuardSession;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.tensorflow.ExecutionEnvironment;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.framework.optimizers.Optimizer.GradAndVar;
import org.tensorflow.types.family.TType;

/**
 * The agent's TensorFlow Java logic: {@code applyGradients} builds the guarded update instead of the
 * plain one (the same {@link GuardedGraph} the API builds), and every {@code Session.Runner.run()} whose
 * targets include a guarded train op gets the guard's feed and fetch and is acted on afterwards (one
 * {@link TfGuardSession} per train op). An optimizer that cannot be guarded builds its own update, with
 * one warning; the only exception that reaches the app is the deliberate halt.
 */
final class TfAgentHooks implements AgentDispatch.TfHooks {

    /** Runner fields, resolved when this class first loads: on the application's thread, after instrumentation. */
    private static final Field TARGETS = Fields.find(Session.Runner.class, "targets");
    private static final Field SESSION = Fields.find(Session.Runner.class, "this$0");

    private final AgentConfig config;
    private final Map<ExecutionEnvironment, Map<String, TfGuardSession>> guarded =
            Collections.synchronizedMap(new WeakHashMap<>());
    private final List<TfGuardSession> open = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger created = new AtomicInteger();
    private volatile boolean warned;

    /** A run in flight. */
    private record InFlight(TfGuardSession session, TfGuardSession.Pending pending) {}

    TfAgentHooks(AgentConfig config) {
        this.config = config;
        Runtime.getRuntime().addShutdownHook(new Thread(this::closeAll, "gradguard-tensorflow-close"));
    }

    @Override
    public void computeGradients(Object optimizer, Object loss) {
        if (optimizer instanceof Optimizer o && loss instanceof Operand<?> l) {
            TfClaims.rememberLoss(o, l);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public Object applyGradients(Object optimizer, Object gradsAndVars, Object name) {
        if (TfClaims.building() || !(optimizer instanceof Optimizer o) || !(gradsAndVars instanceof List<?> list)) {
            return null;
        }
        try {
            GuardedGraph gg = GuardedGraph.build(o, TfClaims.lossOf(o), (List<GradAndVar<? extends TType>>) list,
                    name instanceof String s ? s : null);
            TfGuardSession session = new TfGuardSession(gg, config.guardForRun(created.incrementAndGet()), "agent");
            GraphOperation train = (GraphOperation) gg.train().op();
            guarded.computeIfAbsent(train.env(), k -> Collections.synchronizedMap(new HashMap<>()))
                    .put(train.name(), session);
            open.add(session);
            return gg.train();
        } catch (Throwable t) {
            warnOnce("could not guard " + optimizer.getClass().getSimpleName() + ".applyGradients (" + t
                    + "); that optimizer runs unguarded");
            return null;
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public Object beforeRun(Object runner) {
        if (guarded.isEmpty() || !(runner instanceof Session.Runner r)) {
            return null;
        }
        try {
            List<GraphOperation> targets = (List<GraphOperation>) TARGETS.get(r);
            for (GraphOperation op : targets) {
                Map<String, TfGuardSession> byName = guarded.get(op.env());
                TfGuardSession s = byName == null ? null : byName.get(op.name());
                if (s != null) {
                    TfGuardSession.Pending p = s.beforeRun(r);
                    return p == null ? null : new InFlight(s, p);
                }
            }
            return null;
        } catch (Throwable t) {
            warnOnce("could not prepare a guarded run (" + t + "); that run is unguarded");
            return null;
        }
    }

    @Override
    public Throwable afterRun(Object runner, Object pending, Object result, Throwable thrown) {
        if (!(pending instanceof InFlight f)) {
            return null;
        }
        try {
            f.pending().close();
            if (thrown != null || !(result instanceof Result res)) {
                return null;
            }
            if (SESSION == null) {
                warnOnce("this TensorFlow Java's Session.Runner has no field this$0, so the guard cannot tell which"
                        + " session ran a guarded step; guarded runs are not acted on (the graph still skips non-finite"
                        + " steps)");
                return null;
            }
            Session session = (Session) SESSION.get(runner);
            try {
                f.session().afterRun(session, res, f.pending());
            } catch (GradGuardDivergedException e) {
                res.close();
                return e;
            }
            return null;
        } catch (Throwable t) {
            warnOnce("internal error after a guarded run (" + t + ")");
            return null;
        }
    }

    private void closeAll() {
        synchronized (open) {
            for (TfGuardSession s : open) {
                try {
                    s.close();
                } catch (Throwable t) {
                    // shutting down: nothing left to tell
                }
            }
        }
    }

    private void warnOnce(String message) {
        if (!warned) {
            warned = true;
            System.err.println("GradGuard agent: " + message);
        }
    }
}
