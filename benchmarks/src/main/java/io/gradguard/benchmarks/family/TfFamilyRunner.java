package io.gradguard.benchmarks.family;

import io.gradguard.benchmarks.anchors.AutoClip;
import io.gradguard.benchmarks.anchors.NormRule;
import io.gradguard.benchmarks.anchors.ZClip;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.StepPlan;
import io.gradguard.models.ScenarioData;
import io.gradguard.models.family.Setup;
import io.gradguard.models.family.tf.TfFamily;
import io.gradguard.tensorflow.GradGuardDivergedException;
import io.gradguard.tensorflow.GuardedOptimizer;
import io.gradguard.tensorflow.internal.GuardedGraph;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.op.Op;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TType;

/**
 * Runs the TensorFlow Java half of the family: the same policies as the DJL half where TensorFlow has
 * them. The global-norm clippers, ReduceLROnPlateau and the bold driver act through the guard's in-graph
 * step (a fed {@link StepPlan}: the clip threshold, the learning-rate scale, the snapshot and its restore),
 * so they touch exactly what GradGuard touches; AGC has no TensorFlow implementation here and is left out.
 */
public final class TfFamilyRunner {

    private static final double INF = Double.POSITIVE_INFINITY;

    private final List<String> policies;
    private final List<FamilyRunner.Twin> twins;
    private final GuardConfig config;

    /**
     * @param policies policy keys (those TensorFlow has)
     * @param twins the twins
     * @param config GradGuard's configuration
     */
    public TfFamilyRunner(List<String> policies, List<FamilyRunner.Twin> twins, GuardConfig config) {
        this.policies = policies.stream().filter(p -> !p.equals("agc-0.01")).toList();
        this.twins = twins;
        this.config = config;
    }

    /**
     * Runs one TensorFlow set-up.
     *
     * @param seed its seed
     * @return its rows
     */
    public List<FamilyRow> run(long seed) {
        Setup s = TfFamily.draw(seed);
        ScenarioData d = TfFamily.data(s);
        float[] oracle = TfFamily.oracle(s, d);
        double constant = TfFamily.constantLoss(s, d);
        String split = io.gradguard.models.family.FamilyGenerator.Split.of(seed)
                == io.gradguard.models.family.FamilyGenerator.Split.TUNING ? "tuning" : "held-out";
        List<FamilyRow> rows = new ArrayList<>();
        for (FamilyRunner.Twin twin : twins) {
            float lr = twin == FamilyRunner.Twin.EXPLODING ? (float) (oracle[0] * s.multiplier()) : oracle[0];
            for (String p : policies) {
                Outcome o;
                if (twin == FamilyRunner.Twin.HEALTHY && p.equals("none")) {
                    o = new Outcome(oracle[1], false, 0, 0, 0, 1.0, 0);
                } else {
                    try {
                        o = run(s, d, lr, p);
                    } catch (RuntimeException e) {
                        System.err.println("  tf " + s.id() + " " + twin.word() + " " + p + " threw " + e);
                        o = null;
                    }
                }
                String result = o == null ? "error" : FamilyRow.classify(o.loss(), o.halted(), constant);
                if (o == null) {
                    o = new Outcome(Float.NaN, false, 0, 0, 0, Double.NaN, 0);
                }
                rows.add(new FamilyRow(seed, split, "tf-" + s.id(), s.arch().name(), s.optimizer().name(), "tf", s.steps(),
                        s.multiplier(), oracle[0], oracle[1], constant, twin.word(), p, o.loss(), result, o.interventions(),
                        o.rollbacks(), o.redone(), o.lrScale(), o.seconds(), o.events()));
            }
        }
        return rows;
    }

    private Outcome run(Setup s, ScenarioData d, float lr, String policy) {
        long t0 = System.nanoTime();
        return switch (policy) {
            case "none" -> new Outcome(TfFamily.trainUnguarded(s, d, lr), false, 0, 0, 0, 1.0, secs(t0));
            case "fixed-norm-1.0" -> planned(s, d, lr, t0, new Clipper(() -> new NormRule.Fixed(1.0)));
            case "clip-p90" -> planned(s, d, lr, t0, new Clipper(() -> new AutoClip(90)));
            case "autoclip-p10" -> planned(s, d, lr, t0, new Clipper(() -> new AutoClip(10)));
            case "zclip" -> planned(s, d, lr, t0, new Clipper(ZClip::new));
            case "plateau" -> planned(s, d, lr, t0, new Plateau());
            case "bold-driver" -> planned(s, d, lr, t0, new Bold());
            case "gradguard-auto" -> guarded(s, d, lr, t0);
            default -> throw new IllegalArgumentException("no TensorFlow version of policy '" + policy + "'");
        };
    }

    private static double secs(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** A policy that decides each step's plan from the step's norm and loss (read in a first run of the graph). */
    private interface Planner {
        /**
         * @param step the step
         * @param norm its global gradient norm
         * @param loss its loss
         * @return the plan for the step's update, or null to restore the snapshot and skip the update
         */
        StepPlan plan(long step, double norm, double loss);

        long interventions();

        double scale();

        /** @return true when the policy multiplied the gradients by NaN (AutoClip after a NaN norm): the weights are lost */
        default boolean poisoned() {
            return false;
        }
    }

    private static StepPlan planOf(long step, double clipAbove, boolean snapshot, double scale) {
        return new StepPlan(step, clipAbove, INF, INF, INF, INF, INF, false, false, snapshot, scale);
    }

    private static final class Clipper implements Planner {
        private final NormRule rule;
        private long clipped;
        private boolean poisoned;

        Clipper(Supplier<NormRule> rule) {
            this.rule = rule.get();
        }

        @Override
        public StepPlan plan(long step, double norm, double loss) {
            double max = rule.maxNorm(norm);
            if (Double.isNaN(max) || norm > max) {
                clipped++;
            }
            // the DJL clipper multiplies by a NaN coefficient here, which turns every weight into NaN
            poisoned |= Double.isNaN(max);
            return planOf(step, Double.isNaN(max) ? 0 : max, false, 1.0);
        }

        @Override
        public boolean poisoned() {
            return poisoned;
        }

        @Override
        public long interventions() {
            return clipped;
        }

        @Override
        public double scale() {
            return 1.0;
        }
    }

    /** ReduceLROnPlateau, as {@link io.gradguard.benchmarks.anchors.ReduceLrOnPlateau}. */
    private static final class Plateau implements Planner {
        private double ema;
        private long seen;
        private double best = INF;
        private int bad;
        private double scale = 1.0;
        private long changes;

        @Override
        public StepPlan plan(long step, double norm, double loss) {
            seen++;
            ema = 0.98 * ema + 0.02 * loss;
            if (seen % 10 == 0) {
                double smoothed = ema / (1 - Math.pow(0.98, seen));
                if (smoothed < best * (1 - 1e-4)) {
                    best = smoothed;
                    bad = 0;
                } else if (++bad > 10) {
                    scale *= 0.5;
                    changes++;
                    bad = 0;
                }
            }
            return planOf(step, INF, false, scale);
        }

        @Override
        public long interventions() {
            return changes;
        }

        @Override
        public double scale() {
            return scale;
        }
    }

    /** The bold driver, as {@link io.gradguard.benchmarks.anchors.BoldDriver}: the snapshot holds the state before the last update. */
    private static final class Bold implements Planner {
        private double ema = Double.NaN;
        private double scale = 1.0;
        private long rejected;
        private boolean snapshotted;

        @Override
        public StepPlan plan(long step, double norm, double loss) {
            if (Double.isNaN(ema)) {
                ema = loss;
            }
            double next = 0.9 * ema + 0.1 * loss;
            boolean rose = !Double.isFinite(loss) || !(next <= 1.04 * ema);
            if (rose && snapshotted) {
                rejected++;
                scale *= 0.5;
                return null;
            }
            if (Double.isFinite(loss)) {
                ema = next;
                scale *= 1.05;
            }
            snapshotted = true;
            // the update runs with the snapshot of its pre-update state
            return planOf(step, INF, true, scale);
        }

        @Override
        public long interventions() {
            return rejected;
        }

        @Override
        public double scale() {
            return scale;
        }
    }

    private Outcome planned(Setup s, ScenarioData d, float lr, long t0, Planner planner) {
        try (TfFamily.Model m = TfFamily.build(s)) {
            Optimizer opt = TfFamily.optimizer(s, m.graph, lr);
            List<Optimizer.GradAndVar<?>> computed = opt.computeGradients(m.loss);
            GuardedGraph gg = GuardedGraph.build(opt, m.loss, new ArrayList<Optimizer.GradAndVar<? extends TType>>(computed), "train");
            Op train = gg.train();
            int n = gg.names().size();
            try (Session session = TfFamily.session(m.graph)) {
                for (int step = 0; step < s.steps(); step++) {
                    try (TfFamily.Batch b = TfFamily.batch(s, d, step)) {
                        double norm;
                        double loss;
                        try (Result stats = b.feed(session, m).fetch(gg.stats()).run()) {
                            TFloat64 t = (TFloat64) stats.get(0);
                            norm = t.getDouble(n + GuardedGraph.STAT_NORM);
                            loss = t.getDouble(n + GuardedGraph.STAT_LOSS);
                        }
                        StepPlan p = planner.plan(step, norm, loss);
                        if (p == null) {
                            session.runner().addTarget(gg.restore()).run().close();
                            continue;
                        }
                        // the plan's default skips non-finite steps; the anchors apply them as the engine would
                        StepPlan applied = new StepPlan(step, p.clipAbove(), INF, INF, INF, INF, INF, false, false,
                                p.snapshotIfHealthy(), p.lrScale());
                        try (TFloat64 pt = TFloat64.vectorOf(applied.toArray());
                                Result res = b.feed(session, m).feed(gg.plan(), pt).addTarget(train).run()) {
                            res.size();
                        }
                    }
                }
                float loss = planner.poisoned() ? Float.NaN : TfFamily.evaluate(s, d, session, m);
                return new Outcome(loss, false, planner.interventions(), 0, 0, planner.scale(), secs(t0));
            }
        }
    }

    private Outcome guarded(Setup s, ScenarioData d, float lr, long t0) {
        EventTally tally = new EventTally();
        try (TfFamily.Model m = TfFamily.build(s)) {
            GuardedOptimizer g = GuardedOptimizer.wrap(TfFamily.optimizer(s, m.graph, lr), config);
            Op train = g.minimize(m.loss, "train");
            g.guard().addListener(tally);
            boolean halted = false;
            try (Session session = TfFamily.session(m.graph)) {
                try {
                    for (int step = 0; step < s.steps(); step++) {
                        try (TfFamily.Batch b = TfFamily.batch(s, d, step)) {
                            g.run(session, b.feed(session, m).addTarget(train)).close();
                        }
                    }
                } catch (GradGuardDivergedException e) {
                    halted = true;
                }
                float loss = halted ? Float.NaN : TfFamily.evaluate(s, d, session, m);
                var sum = g.summary();
                long lrChanges = g.guard().schedule().history().size();
                g.close();
                return new Outcome(loss, halted, sum.clipped() + sum.skipped() + sum.rollbacks() + lrChanges, sum.rollbacks(),
                        tally.redone(), sum.lrScale(), secs(t0), tally.text());
            }
        }
    }
}
