package io.gradguard.benchmarks;

import ai.djl.nn.Block;
import ai.djl.training.Trainer;
import io.gradguard.core.GuardConfig;
import io.gradguard.djl.DjlGuard;
import io.gradguard.djl.GradGuardDivergedException;
import io.gradguard.djl.doctor.Doctor;
import io.gradguard.djl.doctor.DoctorResult;
import io.gradguard.djl.doctor.Trial;
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
            int plannedSteps, int trialSteps, int finderSteps, long doctorMillis, int flowPasses, long flowMillis, double stepMillis) {}

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
        int healthy = List.of(args).stream().filter(a -> a.startsWith("--healthy=")).map(a -> Integer.parseInt(a.substring(10)))
                .findFirst().orElse(smoke ? 2 : Integer.MAX_VALUE);
        List<Scenario> zoo = smoke ? List.of(new BadInitScenario(), new FeatureScaleScenario())
                : List.of(new BadInitScenario(), new FeatureScaleScenario(), new RnnAdditionScenario(), new AttentionWarmupScenario());
        List<ZooRow> rows = new ArrayList<>();
        for (Scenario s : zoo) {
            rows.add(zooRow(s));
            System.err.println("doctor: " + s.name() + " done");
        }
        Map<String, String> healthyVerdicts = new LinkedHashMap<>();
        for (Scenario s : zoo) {
            try (ScenarioRun run = s.open(Variant.REFERENCE)) {
                DoctorResult r = consult(s.name() + " (reference)", blocks(s, Variant.REFERENCE), configs(s, Variant.REFERENCE),
                        s.learningRate(Variant.REFERENCE), run, s.steps());
                healthyVerdicts.put(s.name() + " (reference)", verdict(r));
            }
        }
        String split = List.of(args).stream().filter(a -> a.startsWith("--split=")).map(a -> a.substring(8)).findFirst()
                .orElse("held-out");
        if (!split.equals("held-out") && !split.equals("tuning")) {
            throw new IllegalArgumentException("--split must be held-out or tuning, but was '" + split + "'");
        }
        String csvName = "family-" + split + ".csv";
        Path csv = md == null ? Path.of(csvName) : Path.of(md).toAbsolutePath().resolveSibling(csvName);
        for (Map.Entry<Long, Float> e : familyHealthyTwins(csv, healthy).entrySet()) {
            GeneratedScenario g = new GeneratedScenario(FamilyGenerator.draw(e.getKey())).withOracle(e.getValue());
            float lr = e.getValue();
            try (ScenarioRun run = g.open(lr)) {
                Supplier<Block> blocks = () -> {
                    try (ScenarioRun r = g.open(lr)) {
                        return r.model().getBlock();
                    }
                };
                DoubleFunction<ai.djl.training.TrainingConfig> configs = v -> {
                    try (ScenarioRun r = g.open((float) v)) {
                        return r.config();
                    }
                };
                DoctorResult r = consult(g.name(), blocks, configs, lr, run, g.steps());
                healthyVerdicts.put(g.name(), verdict(r));
            }
            System.err.println("doctor: healthy " + g.name() + " -> " + healthyVerdicts.get(g.name()));
        }
        int perKind = List.of(args).stream().filter(a -> a.startsWith("--structural=")).map(a -> Integer.parseInt(a.substring(13)))
                .findFirst().orElse(smoke ? 1 : 7);
        List<StructuralCases.Row> structural = new ArrayList<>();
        for (Object[] c : StructuralCases.draw(split.equals("tuning") ? FamilyGenerator.Split.TUNING
                : FamilyGenerator.Split.HELD_OUT, perKind)) {
            StructuralCases.Row r = StructuralCases.run((String) c[0], (io.gradguard.models.family.Setup) c[1],
                    (io.gradguard.models.family.Setup) c[2]);
            structural.add(r);
            System.err.println("doctor: structural " + r);
        }
        String section = markdown(rows, healthyVerdicts, split) + StructuralCases.markdown(structural, split);
        System.out.println(section);
        if (md != null && !smoke) {
            OverheadBenchmark.replaceSection(Path.of(md), "## Structure doctor (" + split + " split)", section);
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

    static DoubleFunction<ai.djl.training.TrainingConfig> configs(Scenario s, Variant v) {
        return lr -> {
            try (ScenarioRun r = s.open(v, (float) lr)) {
                return r.config();
            }
        };
    }

    static DoctorResult consult(String name, Supplier<Block> blocks, DoubleFunction<ai.djl.training.TrainingConfig> configs,
            double lr, ScenarioRun run, int steps) {
        return Doctor.builder().model(blocks).config(configs).learningRate(lr).data(run.dataset())
                .inputShape(run.inputShape()).plannedSteps(steps).build().run();
    }

    static ZooRow zooRow(Scenario s) {
        int steps = s.steps();
        float reference;
        try (ScenarioRun run = s.open(Variant.REFERENCE)) {
            reference = train(run, null, null);
        }
        float unfixed;
        try (ScenarioRun run = s.open(Variant.EXPLODING)) {
            unfixed = train(run, null, null);
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
        float doctor;
        try (ScenarioRun run = s.open(Variant.EXPLODING, (float) r.chosen().learningRate())) {
            doctor = train(run, r.noChangeNeeded() ? null : r.fixedBlock(run.model().getNDManager()), null);
        }
        double stepMillis = stepMillis(s);
        return new ZooRow(s.name(), String.join("; ", r.prescription()), reference, unfixed, auto, doctor, steps, r.trialSteps(),
                finderSteps(r), doctorMillis, r.flowBefore().passes(), r.flowBefore().millis(), stepMillis);
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

    /** Trains the run for its planned steps (with {@code block} in place of its own, and under {@code guard}); eval loss. */
    static float train(ScenarioRun run, Block block, DjlGuard guard) {
        if (block != null) {
            run.model().setBlock(block);
        }
        try (Trainer t = run.newTrainer()) {
            try {
                run.trainByHand(t, guard == null ? (tr, loss) -> tr.step() : guard::step);
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

    private static String ratio(float loss, float reference) {
        return Float.isFinite(loss) ? String.format(Locale.ROOT, "%.2fx", loss / reference) : "NaN";
    }

    static String markdown(List<ZooRow> rows, Map<String, String> healthy, String split) {
        String machine = String.format(Locale.ROOT, "%s %s, %d cores, Java %s", System.getProperty("os.name"),
                System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        StringBuilder sb = new StringBuilder("## Structure doctor (" + split + " split)\n\n");
        sb.append("Machine: ").append(machine).append(". Date: ").append(LocalDate.now()).append(". Engines: ")
                .append(Engines.describe()).append(". ").append(Engines.reproducibility()).append('\n');
        sb.append("Command: `./mvnw -q -B install -DskipTests && ./mvnw -q -B -pl benchmarks exec:exec"
                + " -Dbench.main=io.gradguard.benchmarks.DoctorBenchmark "
                + (split.equals("tuning") ? "\"-Dbench.args=--split=tuning RESULTS.md\"" : "-Dbench.args=RESULTS.md") + "`\n\n");
        sb.append("Each zoo row's exploding variant: the model as it is, GradGuard `auto` alone, and the doctor's"
                + " prescription (its fixed block at its learning rate), each trained for the scenario's planned steps,"
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
        long none = healthy.values().stream().filter(v -> v.startsWith("no change")).count();
        sb.append(String.format(Locale.ROOT, "%nHealthy models (the zoo rows' references and the generated family's %s-split"
                + " DJL healthy twins at their oracle rate): \"no change needed\" on **%d of %d** (goal: 95%%). The doctor's"
                + " rule that a change must end a third lower than the model as it is (`changeMargin` 0.5) was chosen on the"
                + " tuning split.%n%n", split, none, healthy.size()));
        for (Map.Entry<String, String> e : healthy.entrySet()) {
            if (!e.getValue().startsWith("no change")) {
                sb.append("- `").append(e.getKey()).append("`: ").append(e.getValue()).append('\n');
            }
        }
        return sb.toString();
    }
}
