package io.gradguard.tensorflow;

import io.gradguard.core.GuardConfig;
import io.gradguard.core.event.RunSummary;
import io.gradguard.models.tf.TfMlpScenario;
import java.nio.file.Path;
import java.util.function.BiFunction;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.op.Op;

/** Test helper: trains the TensorFlow MLP scenario unguarded or through {@link GuardedOptimizer}. */
final class TfTrain {

    static final int STEPS = 400;

    /** The outcome of one run. */
    record Result(float evalLoss, RunSummary summary, long mismatches, Throwable thrown, int firstNonFinite) {}

    private TfTrain() {}

    static Result bare(TfMlpScenario sc, BiFunction<Graph, Float, Optimizer> optimizer, float lr) {
        try (TfMlpScenario.Model m = sc.build()) {
            Op train = optimizer.apply(m.graph, lr).minimize(m.loss, "train");
            try (Session s = TfMlpScenario.session(m.graph)) {
                int firstNan = loop(sc, m, s, (ss, r) -> r.addTarget(train).run());
                return new Result(sc.evaluate(s, m), null, 0, null, firstNan);
            }
        }
    }

    static Result guarded(TfMlpScenario sc, BiFunction<Graph, Float, Optimizer> optimizer, float lr, GuardConfig config,
            Path log) {
        try (TfMlpScenario.Model m = sc.build()) {
            GuardedOptimizer opt = GuardedOptimizer.wrap(optimizer.apply(m.graph, lr),
                    log == null ? config : GuardConfig.from(config).log(log).build());
            Op train = opt.minimize(m.loss, "train");
            try (Session s = TfMlpScenario.session(m.graph)) {
                Throwable thrown = null;
                int firstNan = -1;
                try {
                    firstNan = loop(sc, m, s, (ss, r) -> opt.run(ss, r.addTarget(train)));
                } catch (GradGuardDivergedException e) {
                    thrown = e;
                }
                opt.close();
                return new Result(sc.evaluate(s, m), opt.summary(), opt.mismatches(), thrown, firstNan);
            }
        }
    }

    private static int loop(TfMlpScenario sc, TfMlpScenario.Model m, Session s,
            BiFunction<Session, Session.Runner, org.tensorflow.Result> step) {
        TfMlpScenario.Data d = sc.trainData();
        float[] xs = new float[TfMlpScenario.BATCH * TfMlpScenario.IN];
        float[] ys = new float[TfMlpScenario.BATCH];
        int firstNan = -1;
        for (int i = 0; i < STEPS; i++) {
            d.next(xs, ys);
            float l = TfMlpScenario.run(s, m, xs, ys, step);
            if (firstNan < 0 && !Float.isFinite(l)) {
                firstNan = i;
            }
        }
        return firstNan;
    }
}
