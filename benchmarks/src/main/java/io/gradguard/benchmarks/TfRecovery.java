package io.gradguard.benchmarks;

import io.gradguard.benchmarks.anchors.AutoClip;
import io.gradguard.benchmarks.anchors.NormRule;
import io.gradguard.benchmarks.anchors.ZClip;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.StepPlan;
import io.gradguard.models.tf.TfMlpScenario;
import io.gradguard.tensorflow.GradGuardDivergedException;
import io.gradguard.tensorflow.GuardedOptimizer;
import io.gradguard.tensorflow.internal.GuardedGraph;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.op.Op;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TType;

/**
 * The TensorFlow Java rows of the recovery table. The global-norm anchors (fixed 1.0, AutoClip, ZClip)
 * run through GradGuard's in-graph clip with a hand-fed plan: one run reads the step's global norm, the
 * rule turns it into {@code max_norm}, and the training run clips to it with {@code clip_grad_norm_}'s
 * coefficient and nothing else (no skip, no rollback, no learning-rate scale). DJL's {@code optClipGrad}
 * does not exist in TensorFlow Java, and AGC is not implemented here for TensorFlow: those cells say n/a.
 */
final class TfRecovery {

    private TfRecovery() {}

    static final int STEPS = 400;

    /** @return the row of the Momentum scenario at ten times its tuned rate, cells by policy key */
    static Map<String, RecoveryBenchmark.Cell> momentumRow(List<RecoveryBenchmark.Policy> columns, int maxSteps) {
        TfMlpScenario sc = new TfMlpScenario();
        int steps = Math.min(STEPS, maxSteps);
        float reference = train(sc, TfMlpScenario.TUNED_SGD_MOMENTUM_LR, steps, null, null).loss();
        float lr = TfMlpScenario.EXPLODING_SGD_MOMENTUM_LR;
        Map<String, RecoveryBenchmark.Cell> row = new LinkedHashMap<>();
        row.put("reference", new RecoveryBenchmark.Cell(reference, 1.0, false, 0, 0, null));
        for (RecoveryBenchmark.Policy p : columns) {
            RecoveryBenchmark.Cell c = switch (p.key()) {
                case "none" -> cell(train(sc, lr, steps, null, null), reference);
                case "fixed-norm-1.0" -> cell(train(sc, lr, steps, () -> new NormRule.Fixed(1.0), null), reference);
                case "autoclip-p10" -> cell(train(sc, lr, steps, () -> new AutoClip(10), null), reference);
                case "zclip" -> cell(train(sc, lr, steps, ZClip::new, null), reference);
                case "gradguard-auto" -> cell(train(sc, lr, steps, null, GuardConfig.ofDefaults()), reference);
                default -> new RecoveryBenchmark.Cell(Float.NaN, Double.NaN, false, 0, 0, "n/a");
            };
            row.put(p.key(), c);
            System.err.printf("%-32s %-22s %s%n", "tf-mlp-sgd-momentum-lr10x", p.key(), c.render());
        }
        return row;
    }

    private record Outcome(float loss, long rollbacks, long lost, String note) {}

    private static RecoveryBenchmark.Cell cell(Outcome o, float reference) {
        return RecoveryBenchmark.cell(o.loss(), reference, o.rollbacks(), o.lost(), o.note());
    }

    /** One run: unguarded (both null), an anchor (rule), or GradGuard (config). */
    private static Outcome train(TfMlpScenario sc, float lr, int steps, Supplier<NormRule> rule, GuardConfig config) {
        try (TfMlpScenario.Model m = sc.build()) {
            Optimizer opt = TfMlpScenario.sgdMomentum(m.graph, lr);
            GuardedOptimizer guarded = null;
            GuardedGraph gg = null;
            Op train;
            StepsRedone redone = new StepsRedone();
            if (config != null) {
                guarded = GuardedOptimizer.wrap(opt, config);
                train = guarded.minimize(m.loss, "train");
                guarded.guard().addListener(redone);
            } else if (rule != null) {
                List<Optimizer.GradAndVar<?>> computed = opt.computeGradients(m.loss);
                List<Optimizer.GradAndVar<? extends TType>> gv = new ArrayList<>(computed);
                gg = GuardedGraph.build(opt, m.loss, gv, "train");
                train = gg.train();
            } else {
                train = opt.minimize(m.loss, "train");
            }
            NormRule r = rule == null ? null : rule.get();
            String note = null;
            try (Session s = TfMlpScenario.session(m.graph)) {
                TfMlpScenario.Data d = sc.trainData();
                float[] xs = new float[TfMlpScenario.BATCH * TfMlpScenario.IN];
                float[] ys = new float[TfMlpScenario.BATCH];
                try {
                    for (int step = 0; step < steps; step++) {
                        d.next(xs, ys);
                        try (TfMlpScenario.Batch b = TfMlpScenario.Batch.of(xs, ys)) {
                            if (guarded != null) {
                                guarded.run(s, b.feed(s, m).addTarget(train)).close();
                            } else if (r != null) {
                                double norm;
                                try (Result stats = b.feed(s, m).fetch(gg.stats()).run()) {
                                    norm = ((TFloat64) stats.get(0)).getDouble(gg.names().size() + GuardedGraph.STAT_NORM);
                                }
                                double inf = Double.POSITIVE_INFINITY;
                                StepPlan plan = new StepPlan(step, r.maxNorm(norm), inf, inf, inf, inf, inf, false, false, false, 1.0);
                                try (TFloat64 p = TFloat64.vectorOf(plan.toArray());
                                        Result res = b.feed(s, m).feed(gg.plan(), p).addTarget(train).run()) {
                                    res.size();
                                }
                            } else {
                                b.feed(s, m).addTarget(train).run().close();
                            }
                        }
                    }
                } catch (GradGuardDivergedException e) {
                    note = "halted";
                }
                float loss = note == null ? sc.evaluate(s, m) : Float.NaN;
                long rollbacks = guarded == null ? 0 : guarded.summary().rollbacks();
                if (guarded != null) {
                    guarded.close();
                }
                return new Outcome(loss, rollbacks, redone.total(), note);
            }
        }
    }
}
