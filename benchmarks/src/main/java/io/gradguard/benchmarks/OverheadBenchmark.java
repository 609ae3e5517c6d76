package io.gradguard.benchmarks;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.Policy;
import io.gradguard.djl.DjlGuard;
import io.gradguard.djl.internal.GradientInspector;
import io.gradguard.djl.internal.OptimizerAccess;
import io.gradguard.djl.internal.TrainingSnapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The guard's cost on a healthy run: guarded / unguarded step time, measured in one process on identical
 * models, the variants interleaved step by step (A B C ... A B C ..., the order rotating every round) so
 * that the machine's drift hits all of them alike; medians over the measured rounds after a warm-up.
 *
 * <pre>./mvnw -q -B install -DskipTests &amp;&amp; ./mvnw -q -B -pl benchmarks exec:exec -Dmkl.cbwr=AUTO \
 *     -Dbench.main=io.gradguard.benchmarks.OverheadBenchmark "-Dbench.args=RESULTS.md 300"</pre>
 *
 * Arguments: the Markdown file whose "## Overhead" section is replaced (optional), measured rounds
 * (default 300; 50 more are warm-up).
 */
public final class OverheadBenchmark {

    private static final int BATCH = 64;
    private static final int IN = 32;

    private OverheadBenchmark() {}

    /** One variant: its own model and trainer, stepped its own way. */
    private static final class Variant implements AutoCloseable {
        final String key;
        final Model model;
        final Trainer trainer;
        final DjlGuard guard;
        final boolean naive;
        final long[] nanos;
        GradientInspector readPass;

        Variant(String key, int depth, int width, Policy policy, boolean naive, int rounds) {
            this.key = key;
            this.naive = naive;
            Engine.getInstance().setRandomSeed(11);
            SequentialBlock block = new SequentialBlock();
            for (int i = 0; i < depth; i++) {
                block.add(Linear.builder().setUnits(width).build()).add(Activation::relu);
            }
            block.add(Linear.builder().setUnits(1).build());
            model = Model.newInstance(key);
            model.setBlock(block);
            trainer = model.newTrainer(new DefaultTrainingConfig(Loss.l2Loss()).optOptimizer(Optimizer.sgd()
                    .setLearningRateTracker(Tracker.fixed(1e-4f)).optMomentum(0.9f).build()));
            trainer.initialize(new Shape(BATCH, IN));
            guard = policy == null ? null : new DjlGuard(GuardConfig.custom().policy(policy).build());
            nanos = new long[rounds];
        }

        long step(NDArray x, NDArray y) {
            long t0 = System.nanoTime();
            NDArray loss;
            try (GradientCollector gc = trainer.newGradientCollector()) {
                NDArray pred = trainer.forward(new NDList(x)).singletonOrThrow();
                loss = trainer.getLoss().evaluate(new NDList(y), new NDList(pred));
                gc.backward(loss);
            }
            if (guard != null) {
                guard.step(trainer, loss);
            } else if (readPass != null) {
                readPass.measure(loss, false);
                trainer.step();
            } else if (naive) {
                naiveClip(trainer, 1e9);
                trainer.step();
            } else {
                trainer.step();
            }
            loss.close();
            return System.nanoTime() - t0;
        }

        @Override
        public void close() {
            if (guard != null) {
                guard.close();
            }
            trainer.close();
            model.close();
        }
    }

    /** What users write today: one norm and one host read per parameter, then one scale per parameter. */
    static void naiveClip(Trainer trainer, double maxNorm) {
        List<NDArray> grads = new ArrayList<>();
        double sumSq = 0;
        for (Pair<String, Parameter> p : trainer.getModel().getBlock().getParameters()) {
            NDArray g = p.getValue().getArray().getGradient();
            grads.add(g);
            try (NDArray n = g.norm()) {
                float v = n.getFloat();
                sumSq += (double) v * v;
            }
        }
        double coef = Math.min(1.0, maxNorm / (Math.sqrt(sumSq) + 1e-6));
        for (NDArray g : grads) {
            g.muli((float) coef);
        }
    }

    /**
     * Ratios of one model: per variant, the median over rounds of (variant step / unguarded step in the
     * same round), the ratio of means, and the snapshot's cost.
     */
    record Row(String model, int tensors, double baseMedianMs, List<String> keys, double[] pairedMedian,
            double[] meanRatio, double snapshotMs, double snapshotAmortized) {}

    static Row measure(String name, int depth, int width, int rounds) {
        int warmup = 50;
        List<Variant> vs = new ArrayList<>();
        vs.add(new Variant("unguarded", depth, width, null, false, rounds));
        vs.add(new Variant("unguarded again (A/A)", depth, width, null, false, rounds));
        vs.add(new Variant("naive-loop", depth, width, null, true, rounds));
        Variant floor = new Variant("read pass only", depth, width, null, false, rounds);
        floor.readPass = new GradientInspector(floor.trainer);
        vs.add(floor);
        vs.add(new Variant("monitor", depth, width, Policy.MONITOR, false, rounds));
        vs.add(new Variant("clip", depth, width, Policy.CLIP, false, rounds));
        vs.add(new Variant("auto", depth, width, Policy.AUTO, false, rounds));
        System.err.printf(Locale.ROOT, "%s: %d variants x %d rounds%n", name, vs.size(), warmup + rounds);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(new Shape(BATCH, IN));
            NDArray y = m.randomNormal(new Shape(BATCH, 1));
            for (int r = 0; r < warmup + rounds; r++) {
                for (int k = 0; k < vs.size(); k++) {
                    Variant v = vs.get((k + r) % vs.size());
                    long ns = v.step(x, y);
                    if (r >= warmup) {
                        v.nanos[r - warmup] = ns;
                    }
                }
            }
        }
        int tensors = vs.get(0).trainer.getModel().getBlock().getParameters().size();
        long[] base = vs.get(0).nanos;
        List<String> keys = new ArrayList<>();
        double[] paired = new double[vs.size()];
        double[] avg = new double[vs.size()];
        for (int i = 0; i < vs.size(); i++) {
            keys.add(vs.get(i).key);
            long[] ratio = new long[rounds];
            for (int r = 0; r < rounds; r++) {
                ratio[r] = Math.round(1e6 * vs.get(i).nanos[r] / base[r]);
            }
            paired[i] = median(ratio) / 1e6;
            avg[i] = mean(vs.get(i).nanos) / mean(base);
        }
        double snapMs = snapshotMillis(vs.get(vs.size() - 1).trainer);
        double baseMs = median(base) / 1e6;
        vs.forEach(Variant::close);
        return new Row(name, tensors, baseMs, keys, paired, avg, snapMs,
                snapMs / (GuardConfig.DEFAULT_SNAPSHOT_EVERY * baseMs));
    }

    /** Median time of one rollback snapshot (parameters + optimizer state, on the device) of a trainer. */
    static double snapshotMillis(Trainer trainer) {
        GradientInspector inspector = new GradientInspector(trainer);
        try (TrainingSnapshot snap = new TrainingSnapshot(inspector, OptimizerAccess.optimizer(trainer), false)) {
            long[] ns = new long[31];
            for (int i = 0; i < ns.length; i++) {
                long t0 = System.nanoTime();
                snap.take(i);
                ns[i] = System.nanoTime() - t0;
            }
            return median(Arrays.copyOfRange(ns, 1, ns.length)) / 1e6;
        }
    }

    static double median(long[] a) {
        long[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }

    static double mean(long[] a) {
        double sum = 0;
        for (long v : a) {
            sum += v;
        }
        return sum / a.length;
    }

    static String markdown(List<Row> rows, int rounds) {
        StringBuilder sb = new StringBuilder();
        List<String> keys = rows.get(0).keys();
        sb.append("| model | tensors | unguarded step (median) |");
        for (String k : keys.subList(1, keys.size())) {
            sb.append(' ').append(k).append(" |");
        }
        sb.append(" snapshot (every ").append(GuardConfig.DEFAULT_SNAPSHOT_EVERY).append(" steps) |");
        sb.append("\n|---|---|---|").append("---|".repeat(keys.size())).append('\n');
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %.2f ms |", r.model(), r.tensors(), r.baseMedianMs()));
            for (int i = 1; i < keys.size(); i++) {
                sb.append(String.format(Locale.ROOT, " **%.3f** (means %.3f) |", r.pairedMedian()[i], r.meanRatio()[i]));
            }
            sb.append(String.format(Locale.ROOT, " %.2f ms = %.4f per step |", r.snapshotMs(), r.snapshotAmortized()));
            sb.append('\n');
        }
        sb.append(String.format(Locale.ROOT, "%nBold: median over %d rounds of the ratio guarded step / unguarded step of the same"
                + " round (every round runs each variant once, in rotating order, after 50 warm-up rounds); in brackets the"
                + " ratio of mean step times, which includes `auto`'s snapshot every %d steps. `unguarded again (A/A)` is a"
                + " second unguarded model: its distance from 1 is this machine's noise floor. Guarded variants use the loop"
                + " guard `DjlGuard.step` with the policy named and otherwise default settings; `naive-loop` is a `norm()` +"
                + " `getFloat()` per parameter and a scale per parameter; `read pass only` is GradGuard's measurement alone (one norm per gradient, stacked, one copy to the host) with no decision: the floor for any guard that reads every gradient each step. Snapshot: median time of one rollback snapshot"
                + " (parameters and SGD momentum, copied on the device), and that time spread over the default interval as a"
                + " fraction of the unguarded step.%n", rounds, GuardConfig.DEFAULT_SNAPSHOT_EVERY));
        return sb.toString();
    }

    /**
     * Entry point.
     *
     * @param args [file.md] [rounds]
     */
    public static void main(String[] rawArgs) {
        // exec:exec hands -Dbench.args over as one argument
        String[] args = String.join(" ", rawArgs).trim().split("\\s+");
        String out = Arrays.stream(args).filter(a -> a.endsWith(".md")).findFirst().orElse(null);
        int rounds = Arrays.stream(args).filter(a -> a.matches("\\d+")).mapToInt(Integer::parseInt).findFirst().orElse(300);
        List<Row> rows = List.of(measure("(a) deep narrow MLP, 48 x 64", 48, 64, rounds),
                measure("(b) wide MLP, 8 x 512", 8, 512, rounds));
        String md = markdown(rows, rounds);
        System.out.println(md);
        if (out != null) {
            String machine = String.format(Locale.ROOT, "%s %s, %d cores, Java %s", System.getProperty("os.name"),
                    System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
            replaceSection(Path.of(out), "## Overhead", "## Overhead\n\nMachine: " + machine + ". Date: " + LocalDate.now()
                    + ". Engine: " + Engines.describe().replaceFirst(";.*", "") + ", MKL_CBWR=" + System.getenv("MKL_CBWR")
                    + " (AUTO: MKL's fastest kernels, as an application runs them).\nCommand: `./mvnw -q -B install -DskipTests"
                    + " && ./mvnw -q -B -pl benchmarks exec:exec -Dmkl.cbwr=AUTO -Dbench.main=io.gradguard.benchmarks.OverheadBenchmark"
                    + " \"-Dbench.args=RESULTS.md " + rounds + "\"`\n\n" + md);
        }
    }

    /** Replaces (or appends) the section starting with {@code heading} up to the next "## " heading. */
    /**
     * Replaces the section that starts with {@code heading} (up to the next {@code ## } heading) in a
     * Markdown file, or appends it.
     *
     * @param file the file (created when missing)
     * @param heading the section's heading line
     * @param section the new section, heading included
     */
    public static void replaceSection(Path file, String heading, String section) {
        try {
            String text = Files.exists(file) ? Files.readString(file) : "";
            int at = text.indexOf(heading + "\n");
            String updated;
            if (at < 0) {
                updated = text + (text.endsWith("\n") || text.isEmpty() ? "" : "\n") + "\n" + section;
            } else {
                int next = text.indexOf("\n## ", at + heading.length());
                updated = text.substring(0, at) + section + (next < 0 ? "" : text.substring(next));
            }
            Files.writeString(file, updated);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
