package io.gradguard.benchmarks;

import ai.djl.training.Trainer;
import io.gradguard.benchmarks.anchors.Agc;
import io.gradguard.benchmarks.anchors.AutoClip;
import io.gradguard.benchmarks.anchors.GlobalNormClipper;
import io.gradguard.benchmarks.anchors.NormRule;
import io.gradguard.benchmarks.anchors.ZClip;
import io.gradguard.core.GuardConfig;
import io.gradguard.djl.DjlGuard;
import io.gradguard.models.AdamOvershootScenario;
import io.gradguard.models.AttentionWarmupScenario;
import io.gradguard.models.BadInitScenario;
import io.gradguard.models.CorruptedBatchScenario;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.FeatureScaleScenario;
import io.gradguard.models.RelativeErrorScenario;
import io.gradguard.models.RnnAdditionScenario;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The recovery table: every exploding scenario of the zoo under every policy (no fix, the field's usual
 * fixes implemented from their papers, and GradGuard {@code auto}), final loss on the scenario's clean
 * evaluation set as a ratio to its tuned reference measured in the same run.
 *
 * <pre>./mvnw -q -B install -DskipTests &amp;&amp; ./mvnw -q -B -pl benchmarks exec:exec \
 *     -Dbench.main=io.gradguard.benchmarks.RecoveryBenchmark -Dbench.args=RESULTS.md</pre>
 *
 * Arguments: the Markdown file to write (optional; the table is printed either way), and
 * {@code --smoke} for one scenario and a few steps (what the test suite runs so that the harness cannot rot).
 */
public final class RecoveryBenchmark {

    /** A run's outcome. */
    public record Cell(float loss, double ratio, boolean diverged, long rollbacks, long stepsLost, String note,
            int seeds, int divergedSeeds, double lo, double hi) {

        Cell(float loss, double ratio, boolean diverged, long rollbacks, long stepsLost, String note) {
            this(loss, ratio, diverged, rollbacks, stepsLost, note, 1, diverged ? 1 : 0, ratio, ratio);
        }

        /** The median over seeds (a diverged seed counts as worse than any finite one); the spread of the finite ones. */
        static Cell median(List<Cell> cells) {
            if (cells.size() == 1) {
                return cells.get(0);
            }
            List<Cell> sorted = new ArrayList<>(cells);
            sorted.sort(java.util.Comparator.comparingDouble(c -> c.diverged() ? Double.POSITIVE_INFINITY : c.ratio()));
            Cell mid = sorted.get((sorted.size() - 1) / 2);
            int div = (int) cells.stream().filter(Cell::diverged).count();
            double lo = cells.stream().filter(c -> !c.diverged()).mapToDouble(Cell::ratio).min().orElse(Double.NaN);
            double hi = cells.stream().filter(c -> !c.diverged()).mapToDouble(Cell::ratio).max().orElse(Double.NaN);
            long rb = cells.stream().mapToLong(Cell::rollbacks).sum();
            long lost = cells.stream().mapToLong(Cell::stepsLost).sum();
            return new Cell(mid.loss(), mid.ratio(), mid.diverged(), rb, lost, mid.note(), cells.size(), div, lo, hi);
        }

        String render() {
            if ("n/a".equals(note)) {
                return "n/a";
            }
            if (note != null && Float.isNaN(loss)) {
                return note + " ✗" + (seeds > 1 ? " " + divergedSeeds + "/" + seeds + "✗" : "");
            }
            String r = !Float.isFinite(loss) ? String.valueOf(loss)
                    : ratio >= 1000 ? String.format(Locale.ROOT, "%.1ex", ratio) : String.format(Locale.ROOT, "%.2fx", ratio);
            if (diverged) {
                r += " ✗";
            }
            if (seeds > 1) {
                if (divergedSeeds < seeds && hi > lo) {
                    r += String.format(Locale.ROOT, " [%.2f-%.2f]", lo, hi);
                }
                if (divergedSeeds > 0) {
                    r += " " + divergedSeeds + "/" + seeds + "✗";
                }
            }
            if (rollbacks > 0) {
                r += String.format(Locale.ROOT, " (%d rb, %d redone)", rollbacks, stepsLost);
            }
            return r;
        }
    }

    /** A policy: how the exploding variant is trained. */
    public interface Policy {
        /** @return the column key */
        String key();

        /**
         * @param s the scenario
         * @param maxSteps steps to train at most
         * @return the outcome
         */
        Cell run(Scenario s, int maxSteps, float reference, long seed);
    }

    private RecoveryBenchmark() {}

    /** A run diverged when its loss is not finite, it halted, or it ended 10x or more above the reference. */
    static final double DIVERGED_RATIO = 10;

    static Cell cell(float loss, float reference, long rollbacks, long lost, String note) {
        double ratio = loss / reference;
        boolean diverged = note != null || !Float.isFinite(loss) || ratio >= DIVERGED_RATIO;
        return new Cell(loss, ratio, diverged, rollbacks, lost, note);
    }

    /** A hand-written DJL loop with a stepper; {@code clipGrad} for DJL's own element-wise clip. */
    static Policy djl(String key, float clipGrad, Supplier<ScenarioRun.Stepper> stepper) {
        return new Policy() {
            @Override
            public String key() {
                return key;
            }

            @Override
            public Cell run(Scenario s, int maxSteps, float reference, long seed) {
                try (ScenarioRun run = s.open(Variant.EXPLODING, s.learningRate(Variant.EXPLODING), clipGrad, seed);
                        Trainer t = run.newTrainer()) {
                    String note = null;
                    try {
                        run.trainByHand(t, stepper.get(), maxSteps);
                    } catch (RuntimeException e) {
                        note = "threw " + e.getClass().getSimpleName();
                    }
                    float loss = note == null ? run.evalLoss(t) : Float.NaN;
                    return cell(loss, reference, 0, 0, note);
                }
            }
        };
    }

    /** GradGuard {@code auto} with its defaults, through {@link DjlGuard}. */
    static Policy gradGuard() {
        return gradGuard(GuardConfig.ofDefaults());
    }

    /** GradGuard with a given configuration, through {@link DjlGuard} (for the defaults sweep). */
    static Policy gradGuard(GuardConfig config) {
        return new Policy() {
            @Override
            public String key() {
                return "gradguard-auto";
            }

            @Override
            public Cell run(Scenario s, int maxSteps, float reference, long seed) {
                StepsRedone redone = new StepsRedone();
                try (ScenarioRun run = s.open(Variant.EXPLODING, s.learningRate(Variant.EXPLODING), -1f, seed);
                        Trainer t = run.newTrainer();
                        DjlGuard guard = new DjlGuard(config)) {
                    guard.addGuardListener(redone);
                    String note = null;
                    try {
                        run.trainByHand(t, guard::step, maxSteps);
                    } catch (RuntimeException e) {
                        note = "halted";
                    }
                    float loss = note == null ? run.evalLoss(t) : Float.NaN;
                    return cell(loss, reference, guard.summary().rollbacks(), redone.total(), note);
                }
            }
        };
    }

    /** @return the policies, in table order */
    public static List<Policy> policies() {
        return List.of(
                djl("none", -1f, () -> (t, l) -> t.step()),
                djl("djl-optClipGrad-1.0", 1f, () -> (t, l) -> t.step()),
                djl("fixed-norm-1.0", -1f, () -> new GlobalNormClipper(new NormRule.Fixed(1.0))),
                djl("autoclip-p10", -1f, () -> new GlobalNormClipper(new AutoClip(10))),
                djl("zclip", -1f, () -> new GlobalNormClipper(new ZClip())),
                djl("agc-0.01", -1f, Agc::new),
                gradGuard());
    }

    /** @return the DJL scenarios of the table */
    public static List<Scenario> scenarios() {
        return List.of(new DeepMlpScenario(0.02f, 5f, false), new DeepMlpScenario(), new DeepMlpScenario(0.01f, 10f),
                new DeepMlpScenario(0.01f, 50f), new AdamOvershootScenario(), new AttentionWarmupScenario(),
                new BadInitScenario(), new RnnAdditionScenario(),
                new CorruptedBatchScenario(), new RelativeErrorScenario(), new FeatureScaleScenario());
    }

    /** The reference: the tuned variant, unguarded. */
    static float reference(Scenario s, int maxSteps, long seed) {
        try (ScenarioRun run = s.open(Variant.REFERENCE, s.learningRate(Variant.REFERENCE), -1f, seed);
                Trainer t = run.newTrainer()) {
            run.trainByHand(t, (tr, l) -> tr.step(), maxSteps);
            return run.evalLoss(t);
        }
    }

    /**
     * Runs the table.
     *
     * @param scenarios rows
     * @param policies columns
     * @param maxSteps steps per run at most
     * @param seeds seeds per cell (each seed trains its own reference); a cell is the median over seeds
     * @return per scenario name: reference loss and cells by policy key
     */
    public static Map<String, Map<String, Cell>> run(List<Scenario> scenarios, List<Policy> policies, int maxSteps,
            int seeds) {
        Map<String, Map<String, Cell>> table = new LinkedHashMap<>();
        for (Scenario s : scenarios) {
            float[] refs = new float[seeds];
            for (int k = 0; k < seeds; k++) {
                refs[k] = reference(s, maxSteps, Scenario.SEED + k);
            }
            Map<String, Cell> row = new LinkedHashMap<>();
            row.put("reference", new Cell(refs[0], 1.0, false, 0, 0, null));
            for (Policy p : policies) {
                long t0 = System.nanoTime();
                List<Cell> cells = new ArrayList<>();
                for (int k = 0; k < seeds; k++) {
                    cells.add(p.run(s, maxSteps, refs[k], Scenario.SEED + k));
                }
                Cell c = Cell.median(cells);
                row.put(p.key(), c);
                System.err.printf(Locale.ROOT, "%-32s %-22s %-48s %5.1f s%n", s.name(), p.key(), c.render(),
                        (System.nanoTime() - t0) / 1e9);
            }
            table.put(s.name(), row);
        }
        return table;
    }

    static String markdown(Map<String, Map<String, Cell>> table, List<Policy> policies) {
        StringBuilder sb = new StringBuilder();
        sb.append("| scenario | reference loss |");
        for (Policy p : policies) {
            sb.append(' ').append(p.key()).append(" |");
        }
        sb.append('\n').append("|---|---|");
        sb.append("---|".repeat(policies.size())).append('\n');
        for (Map.Entry<String, Map<String, Cell>> row : table.entrySet()) {
            sb.append("| `").append(row.getKey()).append("` | ")
                    .append(String.format(Locale.ROOT, "%.4g", row.getValue().get("reference").loss())).append(" |");
            for (Policy p : policies) {
                sb.append(' ').append(row.getValue().get(p.key()).render()).append(" |");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Where GradGuard {@code auto} stands against each anchor, row by row (ties within 5%). */
    static String verdicts(Map<String, Map<String, Cell>> table, List<Policy> policies) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Map<String, Cell>> row : table.entrySet()) {
            Cell auto = row.getValue().get("gradguard-auto");
            List<String> wins = new ArrayList<>();
            List<String> ties = new ArrayList<>();
            List<String> losses = new ArrayList<>();
            for (Policy p : policies) {
                if (p.key().equals("gradguard-auto")) {
                    continue;
                }
                Cell other = row.getValue().get(p.key());
                if ("n/a".equals(other.note())) {
                    continue;
                }
                double a = auto.diverged() ? Double.POSITIVE_INFINITY : auto.ratio();
                double o = other.diverged() ? Double.POSITIVE_INFINITY : other.ratio();
                if (Double.isInfinite(a) && Double.isInfinite(o) || Math.abs(a - o) <= 0.05 * Math.min(a, o)) {
                    ties.add(p.key());
                } else if (a < o) {
                    wins.add(p.key());
                } else {
                    losses.add(p.key());
                }
            }
            sb.append(String.format(Locale.ROOT, "- `%s`: auto %s; better than %s; tied with %s; worse than %s%n",
                    row.getKey(), auto.render(), wins.isEmpty() ? "—" : String.join(", ", wins),
                    ties.isEmpty() ? "—" : String.join(", ", ties), losses.isEmpty() ? "—" : String.join(", ", losses)));
        }
        return sb.toString();
    }

    /**
     * Entry point.
     *
     * @param args [output.md] [--smoke]
     */
    public static void main(String[] rawArgs) {
        // exec:exec hands -Dbench.args over as one argument
        String[] args = String.join(" ", rawArgs).trim().split("\\s+");
        boolean smoke = List.of(args).contains("--smoke");
        String out = List.of(args).stream().filter(a -> a.endsWith(".md")).findFirst().orElse(null);
        List<Scenario> scenarios = smoke ? List.of(new CorruptedBatchScenario()) : scenarios();
        int maxSteps = smoke ? 20 : Integer.MAX_VALUE;
        int seeds = List.of(args).stream().filter(a -> a.startsWith("--seeds=")).map(a -> Integer.parseInt(a.substring(8)))
                .findFirst().orElse(smoke ? 1 : 5);
        Map<String, Map<String, Cell>> table = run(scenarios, policies(), maxSteps, seeds);
        table.put("tf-mlp-sgd-momentum-lr10x (TensorFlow Java)", TfRecovery.momentumRow(policies(), maxSteps));
        String md = markdown(table, policies());
        String verdicts = verdicts(table, policies());
        System.out.println(md);
        System.out.println(verdicts);
        if (out != null) {
            writeResults(Path.of(out), md, verdicts, seeds);
        }
    }

    static void writeResults(Path out, String table, String verdicts, int seeds) {
        String machine = String.format(Locale.ROOT, "%s %s, %d cores, Java %s (%s)", System.getProperty("os.name"),
                System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                System.getProperty("java.vm.name"));
        String section = "## Recovery\n\n"
                + "Machine: " + machine + ". Date: " + LocalDate.now() + ". Engines: " + Engines.describe()
                + " (TensorFlow: one thread per session, the last row). " + Engines.reproducibility() + "\n"
                + "Command: `./mvnw -q -B install -DskipTests && ./mvnw -q -B -pl benchmarks exec:exec"
                + " -Dbench.main=io.gradguard.benchmarks.RecoveryBenchmark -Dbench.args=RESULTS.md` (written to `benchmarks/RESULTS.md`)\n\n"
                + "Cells: final loss on the scenario's clean evaluation set as a ratio to the tuned reference trained"
                + " in the same run with the same seed (x); the median over " + seeds + " seeds (" + Scenario.SEED + " to "
                + (Scenario.SEED + seeds - 1) + ": initialization and data; a diverged seed counts as worse than any"
                + " finite one), the finite seeds' range in brackets, k/" + seeds + "✗ = seeds that diverged (not finite,"
                + " halted, or >= " + (int) DIVERGED_RATIO + "x); rb = rollbacks, redone = steps trained again after"
                + " rolling back (both summed over seeds). The reference column is seed " + Scenario.SEED + "'s. The"
                + " TensorFlow row is one seed.\n\n"
                + table + "\n" + verdicts;
        try {
            if (!Files.exists(out)) {
                Files.writeString(out, "# GradGuard benchmark results\n\n");
            }
            OverheadBenchmark.replaceSection(out, "## Recovery", section);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
