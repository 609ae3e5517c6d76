package io.gradguard.benchmarks;

import ai.djl.nn.Block;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import io.gradguard.benchmarks.family.FamilyReport;
import io.gradguard.core.GuardConfig;
import io.gradguard.djl.DjlGuard;
import io.gradguard.djl.GradGuardDivergedException;
import io.gradguard.djl.doctor.Doctor;
import io.gradguard.djl.doctor.DoctorResult;
import io.gradguard.djl.doctor.Trial;
import io.gradguard.djl.internal.OptimizerAccess;
import io.gradguard.models.AttentionWarmupScenario;
import io.gradguard.models.BadInitScenario;
import io.gradguard.models.FeatureScaleScenario;
import io.gradguard.models.RnnAdditionScenario;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import io.gradguard.models.family.FamilyGenerator;
import io.gradguard.models.family.GeneratedScenario;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleFunction;
import java.util.function.Supplier;

/**
 * The structure doctor measured (issue 14): on the zoo's structural rows, the doctor's prescription (its fixed block
 * at its learning rate, trained for the scenario's planned steps) against the model as it is, GradGuard {@code auto}
 * alone and the best known fix (the scenario's tuned reference); on healthy models (the zoo's references and the
 * generated family's held-out healthy twins at their oracle rate, read from {@code family-held-out.csv}), how often
 * it says "no change needed"; and what the gradient-flow check costs against one training step.
 *
 * <pre>./mvnw -q -B install -DskipTests &amp;&amp; ./mvnw -q -B -pl benchmarks exec:exec \
 *     -Dbench.main=io.gradguard.benchmarks.DoctorBenchmark -Dbench.args=RESULTS.md</pre>
 *
 * Then the generated structural cases ({@link StructuralCases}; {@code --structural=N} per kind, default 7).
 *
 * <p>Options: {@code --healthy=N} family healthy twins (default all DJL ones), {@code --split=held-out|tuning} (whose
 * healthy twins; default held-out: the doctor's rules are chosen on the tuning split), {@code --smoke} (two zoo rows,
 * two healthy twins, no file written).
 */
public final class DoctorBenchmark {

    private DoctorBenchmark() {}

    /** One zoo row's outcome. */
    record ZooRow(String scenario, String prescription, float reference, float unfixed, float auto, float doctor,
            int plannedSteps, int trialSteps, int finderSteps, long doctorMillis, int flowPasses, long flowMillis, double stepMillis,
            String seeds) {}

    /**
     * Entry point.
     *
     * @param rawArgs options and the Markdown file to write the section into
     * @throws IOException when the family CSV or the Markdown file cannot be read or written
     */
    public static void main(String[] rawArgs) throws IOException {
        String[] args = String.join(" ", rawArgs).trim().split("\\s+");
        boolean smoke = List.of(args).contains("--smoke");
        String md = List.of(args).stream().filter(a -> a.endsWith(".md")).findFirst().orElse(null);
        int healthy = Integer.parseInt(option(args, "--healthy=", String.valueOf(smoke ? 2 : Integer.MAX_VALUE)));
        List<Scenario> zoo = smoke ? List.of(new BadInitScenario(), new FeatureScaleScenario())
                : List.of(new BadInitScenario(), new FeatureScaleScenario(), new RnnAdditionScenario(), new AttentionWarmupScenario());
        List<ZooRow> rows = new ArrayList<>();
        for (Scenario s : zoo) {
            rows.add(zooRow(s));
            System.err.println("doctor: " + s.name() + " done");
        }
        Map<String, String> healthyVerdicts = new LinkedHashMap<>();
        // a healthy model the doctor changes: its prescription followed and the model as it is (followedAndAsIs)
        Map<String, float[]> followedRuns = new LinkedHashMap<>();
        for (Scenario s : zoo) {
            String name = s.name() + " (reference)";
            DoctorResult r;
            try (ScenarioRun run = s.open(Variant.REFERENCE)) {
                r = consult(name, blocks(s, Variant.REFERENCE), configs(s, Variant.REFERENCE),
                        s.learningRate(Variant.REFERENCE), run, s.steps());
                healthyVerdicts.put(name, verdict(r));
            }
            if (!r.noChangeNeeded()) {
                followedRuns.put(name, followedAndAsIs(r, () -> s.open(Variant.REFERENCE), v -> s.open(Variant.REFERENCE, v)));
            }
        }
        String split = option(args, "--split=", "held-out");
        if (!split.equals("held-out") && !split.equals("tuning")) {
            throw new IllegalArgumentException("--split must be held-out or tuning, but was '" + split + "'");
        }
        String csvName = "family-" + split + ".csv";
        Path csv = md == null ? Path.of(csvName) : Path.of(md).toAbsolutePath().resolveSibling(csvName);
        for (Map.Entry<Long, Float> e : familyHealthyTwins(csv, healthy).entrySet()) {
            GeneratedScenario g = new GeneratedScenario(FamilyGenerator.draw(e.getKey())).withOracle(e.getValue());
            float lr = e.getValue();
            try (ScenarioRun run = g.open(lr)) {
                DoctorResult r = consult(g.name(), blocks(g, lr), configs(g), lr, run, g.steps());
                healthyVerdicts.put(g.name(), verdict(r));
                if (!r.noChangeNeeded()) {
                    followedRuns.put(g.name(), followedAndAsIs(r, () -> g.open(lr), g::open));
                }
            }
            System.err.println("doctor: healthy " + g.name() + " -> " + healthyVerdicts.get(g.name()));
        }
        int perKind = Integer.parseInt(option(args, "--structural=", smoke ? "1" : "7"));
        List<StructuralCases.Row> structural = new ArrayList<>();
        for (Object[] c : StructuralCases.draw(split.equals("tuning") ? FamilyGenerator.Split.TUNING
                : FamilyGenerator.Split.HELD_OUT, perKind)) {
            StructuralCases.Row r = StructuralCases.run((String) c[0], (io.gradguard.models.family.Setup) c[1],
                    (io.gradguard.models.family.Setup) c[2]);
            structural.add(r);
            System.err.println("doctor: structural " + r);
        }
        String section = markdown(rows, healthyVerdicts, followedRuns, split) + StructuralCases.markdown(structural, split);
        System.out.println(section);
        if (md != null && !smoke) {
            OverheadBenchmark.replaceSection(Path.of(md), "## Structure doctor (" + split + " split)", section);
        }
    }

    /**
     * The prescription followed and the model as it is, each trained for the planned steps: for a zoo row, the doctor
     * against the unfixed model; for a healthy model it changed, whether the user loses by following it.
     *
     * @param r the doctor's result
     * @param asIs opens the run at the user's learning rate
     * @param atRate opens the run at a given learning rate
     * @return {followed, as it is}: eval losses (NaN when diverged)
     */
    static float[] followedAndAsIs(DoctorResult r, Supplier<ScenarioRun> asIs,
            java.util.function.Function<Float, ScenarioRun> atRate) {
        float plain;
        try (ScenarioRun run = asIs.get()) {
            plain = train(run, null, null);
        }
        try (ScenarioRun run = atRate.apply((float) r.chosen().learningRate())) {
            return new float[] {trainPrescription(run, r), plain};
        }
    }

    private static String verdict(DoctorResult r) {
        if (r.noChangeNeeded()) {
            return "no change";
        }
        java.util.Set<String> kinds = new java.util.TreeSet<>();
        r.flowBefore().findings().forEach(f -> kinds.add(f.kind().name().toLowerCase(Locale.ROOT)));
        Trial plain = r.trials().stream().filter(t -> t.name().equals("as-is")).findFirst().orElse(null);
        return r.chosen().name() + " (flow: " + (kinds.isEmpty() ? "in range" : String.join(", ", kinds)) + "; as it is "
                + (plain == null ? "?" : plain.finite() ? String.format(Locale.ROOT, "%.4g", plain.finalLoss()) : "diverged")
                + String.format(Locale.ROOT, ", chosen %.4g)", r.chosen().finalLoss());
    }

    static Supplier<Block> blocks(Scenario s, Variant v) {
        return () -> {
            try (ScenarioRun r = s.open(v)) {
                return r.model().getBlock();
            }
        };
    }

    /**
     * @param g a generated set-up
     * @param lr the rate its model is opened at (the model does not depend on it)
     * @return fresh, uninitialized blocks of its model, for the doctor
     */
    static Supplier<Block> blocks(GeneratedScenario g, float lr) {
        return () -> {
            try (ScenarioRun r = g.open(lr)) {
                return r.model().getBlock();
            }
        };
    }

    /**
     * @param g a generated set-up
     * @return its training configuration at a given rate, for the doctor
     */
    static DoubleFunction<ai.djl.training.TrainingConfig> configs(GeneratedScenario g) {
        return v -> {
            try (ScenarioRun r = g.open((float) v)) {
                return r.config();
            }
        };
    }

    static DoubleFunction<ai.djl.training.TrainingConfig> configs(Scenario s, Variant v) {
        return lr -> {
            try (ScenarioRun r = s.open(v, (float) lr)) {
                return r.config();
            }
        };
    }

    static DoctorResult consult(String name, Supplier<Block> blocks, DoubleFunction<ai.djl.training.TrainingConfig> configs,
            double lr, ScenarioRun run, int steps) {
        return consult(blocks, configs, lr, run, steps, b -> b);
    }

    /** The doctor on a run's data, with the builder's remaining settings from {@code settings}. */
    static DoctorResult consult(Supplier<Block> blocks, DoubleFunction<ai.djl.training.TrainingConfig> configs, double lr,
            ScenarioRun run, int steps, java.util.function.UnaryOperator<Doctor.Builder> settings) {
        return settings.apply(Doctor.builder().model(blocks).config(configs).learningRate(lr).data(run.dataset())
                .inputShape(run.inputShape()).plannedSteps(steps)).build().run();
    }

    static ZooRow zooRow(Scenario s) {
        int steps = s.steps();
        float reference;
        try (ScenarioRun run = s.open(Variant.REFERENCE)) {
            reference = train(run, null, null);
        }
        float auto;
        try (ScenarioRun run = s.open(Variant.EXPLODING); DjlGuard guard = new DjlGuard(GuardConfig.ofDefaults())) {
            auto = train(run, null, guard);
        }
        long t0 = System.nanoTime();
        DoctorResult r;
        try (ScenarioRun run = s.open(Variant.EXPLODING)) {
            r = consult(s.name(), blocks(s, Variant.EXPLODING), configs(s, Variant.EXPLODING), s.learningRate(Variant.EXPLODING),
                    run, steps);
        }
        long doctorMillis = (System.nanoTime() - t0) / 1_000_000;
        float[] followed = followedAndAsIs(r, () -> s.open(Variant.EXPLODING), v -> s.open(Variant.EXPLODING, v));
        float doctor = followed[0];
        float unfixed = followed[1];
        double stepMillis = stepMillis(s);
        String seeds = r.noChangeNeeded() || !r.chosenFixes().isEmpty() ? null
                : seeds(s, r, (double) doctor / reference, (double) unfixed / reference);
        return new ZooRow(s.name(), String.join("; ", r.prescription()), reference, unfixed, auto, doctor, steps, r.trialSteps(),
                finderSteps(r), doctorMillis, r.flowBefore().passes(), r.flowBefore().millis(), stepMillis, seeds);
    }

    /** Seeds a prescription that keeps the model is re-applied on, the scenario's own first. */
    static final int SEEDS = 5;

    /**
     * A prescription that keeps the model (a new rate, a warm-up) applies as it is to the scenario drawn from other
     * seeds (initialization and data): the median and range, over {@value #SEEDS} seeds, of its ratio to the reference
     * trained on the same seed, beside the model as it is. The scenario's own seed is the zoo row's, already trained.
     */
    private static String seeds(Scenario s, DoctorResult r, double doctorRatio, double unfixedRatio) {
        List<Double> doctor = new ArrayList<>(List.of(doctorRatio));
        List<Double> unfixed = new ArrayList<>(List.of(unfixedRatio));
        for (long seed = Scenario.SEED + 1; seed < Scenario.SEED + SEEDS; seed++) {
            float reference;
            try (ScenarioRun run = s.open(Variant.REFERENCE, s.learningRate(Variant.REFERENCE), -1f, seed)) {
                reference = train(run, null, null);
            }
            try (ScenarioRun run = s.open(Variant.EXPLODING, (float) r.chosen().learningRate(), -1f, seed)) {
                doctor.add((double) trainPrescription(run, r) / reference);
            }
            try (ScenarioRun run = s.open(Variant.EXPLODING, s.learningRate(Variant.EXPLODING), -1f, seed)) {
                unfixed.add((double) train(run, null, null) / reference);
            }
        }
        return String.format(Locale.ROOT, "`%s`, its prescription re-applied on %d seeds (initialization and data, seeds"
                + " %d-%d): median %s (%s to %s), the model as it is %s (%s to %s)", s.name(), SEEDS, Scenario.SEED,
                Scenario.SEED + SEEDS - 1, x(FamilyReport.median(doctor)), x(min(doctor)), x(max(doctor)), x(FamilyReport.median(unfixed)),
                x(min(unfixed)), x(max(unfixed)));
    }

    private static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).map(d -> Double.isNaN(d) ? Double.POSITIVE_INFINITY : d).min()
                .orElse(Double.NaN);
    }

    private static double max(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).map(d -> Double.isNaN(d) ? Double.POSITIVE_INFINITY : d).max()
                .orElse(Double.NaN);
    }

    private static String x(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2fx", v) : "NaN";
    }

    private static int finderSteps(DoctorResult r) {
        return r.lrRange() == null ? 0 : r.lrRange().learningRates().size();
    }

    /** The median time of one training step of the scenario's reference, over 30 steps after 10 warm-up steps. */
    private static double stepMillis(Scenario s) {
        try (ScenarioRun run = s.open(Variant.REFERENCE); Trainer t = run.newTrainer()) {
            List<Long> nanos = new ArrayList<>();
            long[] last = {System.nanoTime()};
            run.trainByHand(t, (tr, loss) -> {
                tr.step();
                long now = System.nanoTime();
                nanos.add(now - last[0]);
                last[0] = now;
            }, 40);
            List<Long> tail = new ArrayList<>(nanos.subList(Math.min(10, nanos.size()), nanos.size()));
            tail.sort(null);
            return tail.isEmpty() ? Double.NaN : tail.get(tail.size() / 2) / 1e6;
        }
    }

    /**
     * Trains what the doctor prescribed, as a user would follow it: the run must be open at the prescribed rate; the
     * doctor's fixed block replaces the model's own only when the prescription changes the model (a new rate or a
     * warm-up alone keeps the user's model, initialized as it was), and a prescribed warm-up scales the optimizer's
     * rate linearly from 1/N to 1 over its N steps.
     *
     * @param run the run, open at the prescribed learning rate
     * @param r the doctor's result
     * @return the eval loss after the run's planned steps (NaN when it diverged)
     */
    static float trainPrescription(ScenarioRun run, DoctorResult r) {
        Block block = r.noChangeNeeded() || r.chosenFixes().isEmpty() ? null : r.fixedBlock(run.model().getNDManager());
        return train(run, block, null, r.noChangeNeeded() ? 0 : r.warmUpSteps());
    }

    /** Trains the run for its planned steps (with {@code block} in place of its own, and under {@code guard}); eval loss. */
    static float train(ScenarioRun run, Block block, DjlGuard guard) {
        return train(run, block, guard, 0);
    }

    private static float train(ScenarioRun run, Block block, DjlGuard guard, int warmUp) {
        if (block != null) {
            run.model().setBlock(block);
        }
        try (Trainer t = run.newTrainer()) {
            int[] done = {0};
            if (warmUp > 0) {
                Optimizer o = OptimizerAccess.optimizer(t);
                if (o == null || OptimizerAccess.scaleLearningRate(o, OptimizerAccess.linearWarmUp(warmUp, () -> done[0])) == 0) {
                    throw new IllegalStateException("the doctor prescribed a warm-up the benchmark cannot apply to "
                            + (o == null ? "this trainer" : o.getClass().getName()));
                }
            }
            try {
                ScenarioRun.Stepper step = guard == null ? (tr, loss) -> tr.step() : guard::step;
                run.trainByHand(t, (tr, loss) -> {
                    step.step(tr, loss);
                    done[0]++;
                });
            } catch (GradGuardDivergedException e) {
                return Float.NaN;
            } catch (IllegalStateException e) {
                // DJL refuses to step when every gradient is exactly zero (a dead net): it stays as initialized
                if (!String.valueOf(e.getMessage()).contains("Gradient values are all zeros")) {
                    throw e;
                }
            }
            return run.evalLoss(t);
        }
    }

    /** The family's held-out DJL set-ups and their oracle rates, from the family benchmark's per-run CSV. */
    static Map<Long, Float> familyHealthyTwins(Path csv, int limit) throws IOException {
        Map<Long, Float> out = new LinkedHashMap<>();
        if (!Files.exists(csv)) {
            throw new IllegalStateException("the doctor's healthy twins come from " + csv
                    + ", which the family benchmark writes; run it first (see RESULTS.md)");
        }
        List<String> lines = Files.readAllLines(csv);
        List<String> header = List.of(lines.get(0).split(","));
        int seed = header.indexOf("seed");
        int engine = header.indexOf("engine");
        int oracle = header.indexOf("oracle_lr");
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            if (f[engine].equals("djl") && out.size() < limit) {
                out.putIfAbsent(Long.parseLong(f[seed]), Float.parseFloat(f[oracle]));
            }
        }
        return out;
    }

    /**
     * @param args the benchmark's arguments
     * @param prefix an option's prefix, e.g. {@code --split=}
     * @param fallback the value when the option is absent
     * @return the first value given for the option, or the fallback
     */
    static String option(String[] args, String prefix, String fallback) {
        return List.of(args).stream().filter(a -> a.startsWith(prefix)).map(a -> a.substring(prefix.length())).findFirst()
                .orElse(fallback);
    }

    /** @return {@code loss / reference} as "1.23x", or "NaN" when the loss is not finite */
    static String ratio(float loss, float reference) {
        return Float.isFinite(loss) ? String.format(Locale.ROOT, "%.2fx", loss / reference) : "NaN";
    }

    /** @return whether following a prescription ended more than 5% better than the model as it is */
    static boolean helped(float followed, float asIs) {
        return followed < asIs * 0.95f;
    }

    /** @return whether following a prescription ended more than 5% worse than the model as it is, or diverged */
    static boolean hurt(float followed, float asIs) {
        return !(followed <= asIs * 1.05f);
    }

    static String markdown(List<ZooRow> rows, Map<String, String> healthy, Map<String, float[]> followed, String split) {
        String machine = String.format(Locale.ROOT, "%s %s, %d cores, Java %s", System.getProperty("os.name"),
                System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        StringBuilder sb = new StringBuilder("## Structure doctor (" + split + " split)\n\n");
        sb.append("Machine: ").append(machine).append(". Date: ").append(LocalDate.now()).append(". Engines: ")
                .append(Engines.describe()).append(". ").append(Engines.reproducibility()).append('\n');
        sb.append("Command: `./mvnw -q -B install -DskipTests && ./mvnw -q -B -pl benchmarks exec:exec"
                + " -Dbench.main=io.gradguard.benchmarks.DoctorBenchmark "
                + (split.equals("tuning") ? "\"-Dbench.args=--split=tuning RESULTS.md\"" : "-Dbench.args=RESULTS.md") + "`\n\n");
        sb.append("Each zoo row's exploding variant: the model as it is, GradGuard `auto` alone, and the doctor's"
                + " prescription as a user follows it (its fixed block when it changes the model, else the model as it"
                + " is; its learning rate; its warm-up), each trained for the scenario's planned steps,"
                + " as a ratio to the best known fix (the scenario's tuned reference) trained the same way. The doctor's"
                + " own cost: its trials (at most 10% of the planned steps) and its learning-rate range test, in steps;"
                + " the gradient-flow check in passes and milliseconds against the median training step.\n\n");
        sb.append("| scenario | unfixed | `auto` alone | doctor | prescription | trial steps + range test | flow check |\n");
        sb.append("|---|---|---|---|---|---|---|\n");
        for (ZooRow r : rows) {
            sb.append(String.format(Locale.ROOT, "| `%s` | %s | %s | **%s** | %s | %d + %d of %s | %d passes, %d ms (%.1f steps) |%n",
                    r.scenario(), ratio(r.unfixed(), r.reference()), ratio(r.auto(), r.reference()),
                    ratio(r.doctor(), r.reference()), r.prescription().replace("|", "\\|"), r.trialSteps(), r.finderSteps(),
                    r.plannedSteps() + " planned", r.flowPasses(), r.flowMillis(), r.flowMillis() / r.stepMillis()));
        }
        for (ZooRow r : rows) {
            if (r.seeds() != null) {
                sb.append("\nA prescription that keeps the model is also measured on other seeds of its scenario: ")
                        .append(r.seeds()).append(".\n");
            }
        }
        long none = healthy.values().stream().filter(v -> v.startsWith("no change")).count();
        sb.append(String.format(Locale.ROOT, "%nHealthy models (the zoo rows' references and the generated family's %s-split"
                + " DJL healthy twins at their oracle rate): \"no change needed\" on **%d of %d** (goal: 95%%). The doctor's"
                + " rules for a model that trains, that a change must end its trial below the model as it is divided by"
                + " 1 + `changeMargin` (%s, the default) unless the model is stuck (activations and backward signal both out"
                + " of range with depth, and its loss not 1%% lower after its trial: then the best re-initialization that"
                + " ends below it divided by 1 + `stuckMargin`, %s), were chosen on the tuning split"
                + " (\"Structure doctor: where the change margin comes from\", \"... where the stuck margin comes"
                + " from\").%n%n", split, none, healthy.size(), DoctorMarginSweep.fmt(Doctor.DEFAULT_CHANGE_MARGIN),
                DoctorMarginSweep.fmt(Doctor.DEFAULT_STUCK_MARGIN)));
        for (Map.Entry<String, String> e : healthy.entrySet()) {
            if (!e.getValue().startsWith("no change")) {
                float[] f = followed.get(e.getKey());
                sb.append("- `").append(e.getKey()).append("`: ").append(e.getValue())
                        .append(f == null ? "" : String.format(Locale.ROOT, "; full run: prescription followed %.4g, as it is"
                                + " %.4g (%s)", f[0], f[1], ratio(f[0], f[1]))).append('\n');
            }
        }
        if (!followed.isEmpty()) {
            long hurt = followed.values().stream().filter(f -> hurt(f[0], f[1])).count();
            long helped = followed.values().stream().filter(f -> helped(f[0], f[1])).count();
            sb.append(String.format(Locale.ROOT, "%nEach changed healthy model trained for its planned steps both ways: following"
                    + " the prescription ends more than 5%% better than the model as it is on %d of %d, more than 5%% worse"
                    + " (or diverged) on %d.%n", helped, followed.size(), hurt));
        }
        return sb.toString();
    }
}
