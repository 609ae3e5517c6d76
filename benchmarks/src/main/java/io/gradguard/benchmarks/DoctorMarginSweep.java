package io.gradguard.benchmarks;

import ai.djl.nn.Block;
import ai.djl.training.TrainingConfig;
import io.gradguard.djl.doctor.Doctor;
import io.gradguard.djl.doctor.DoctorResult;
import io.gradguard.models.AttentionWarmupScenario;
import io.gradguard.models.BadInitScenario;
import io.gradguard.models.FeatureScaleScenario;
import io.gradguard.models.RnnAdditionScenario;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import io.gradguard.models.family.FamilyGenerator;
import io.gradguard.models.family.GeneratedScenario;
import io.gradguard.models.family.Setup;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Where the doctor's {@link Doctor.Builder#changeMargin} comes from (issue 14): each candidate value, the doctor consulted
 * on the same cases as {@link DoctorBenchmark} of one split (the zoo's references and the family's DJL healthy twins at
 * their oracle rate; the generated structural cases; the zoo's exploding rows), and what each verdict costs or gives
 * when followed for the planned steps. The trials do not depend on the margin (same seed, same batches), only the
 * choice does; every consultation is still run whole, as a user would.
 *
 * <pre>./mvnw -q -B -pl benchmarks exec:exec -Dbench.main=io.gradguard.benchmarks.DoctorMarginSweep \
 *     "-Dbench.args=--split=tuning --values=0.5,1,2,4 RESULTS.md"</pre>
 *
 * <p>Options: {@code --split=tuning|held-out} (default tuning: the margin is chosen there), {@code --values=a,b,..}
 * (default 0.5,1,2,4; a value followed by {@code :no-stuck} is consulted with {@code stuckReinit(false)}),
 * {@code --twins=a.csv,b.csv} (family CSVs beside the Markdown file whose DJL healthy twins are consulted instead of
 * the split's own {@code family-<split>.csv}, e.g. the extended tuning set's), {@code --healthy=N} family healthy twins (default all), {@code --structural=N} per kind
 * (default 7), {@code --no-zoo}; a path ending in {@code .md} gets the section.
 */
public final class DoctorMarginSweep {

    private DoctorMarginSweep() {}

    /** One case: how to consult the doctor on it and how to train a verdict for its planned steps. */
    private record Case(String group, String name, Supplier<Block> blocks, DoubleFunction<TrainingConfig> configs,
            double lr, Supplier<ScenarioRun> asIs, Function<Float, ScenarioRun> atRate, int steps, float best) {}

    /** Per candidate value: the counts the table shows. */
    private static final class Tally {
        int healthy;
        int unchanged;
        int helped;
        int hurt;
        int structural;
        int within;
        final List<String> changed = new ArrayList<>();
        final List<String> zoo = new ArrayList<>();
    }

    /**
     * Entry point.
     *
     * @param rawArgs options and the Markdown file to write the section into
     * @throws IOException when the family CSV cannot be read
     */
    public static void main(String[] rawArgs) throws IOException {
        String[] args = String.join(" ", rawArgs).trim().split("\\s+");
        String split = DoctorBenchmark.option(args, "--split=", "tuning");
        if (!split.equals("held-out") && !split.equals("tuning")) {
            throw new IllegalArgumentException("--split must be held-out or tuning, but was '" + split + "'");
        }
        List<String> values = List.of(DoctorBenchmark.option(args, "--values=", "0.5,1,2,4").split(","));
        for (String v : values) {
            double d = margin(v);
            if (!(d >= 0 && d <= 10)) {
                throw new IllegalArgumentException("--values: " + v + " is outside [0, 10] (Doctor.builder().changeMargin)");
            }
        }
        int healthyLimit = Integer.parseInt(DoctorBenchmark.option(args, "--healthy=", String.valueOf(Integer.MAX_VALUE)));
        int perKind = Integer.parseInt(DoctorBenchmark.option(args, "--structural=", "7"));
        boolean zoo = !List.of(args).contains("--no-zoo");
        String md = List.of(args).stream().filter(a -> a.endsWith(".md")).findFirst().orElse(null);

        List<Case> cases = new ArrayList<>();
        List<Scenario> scenarios = zoo ? List.of(new BadInitScenario(), new FeatureScaleScenario(), new RnnAdditionScenario(),
                new AttentionWarmupScenario()) : List.of();
        for (Scenario s : scenarios) {
            cases.add(zooCase("healthy", s, Variant.REFERENCE, Float.NaN));
        }
        // the healthy twins: the split's family CSV, or the CSVs --twins names (beside the Markdown file)
        String twins = DoctorBenchmark.option(args, "--twins=", "family-" + split + ".csv");
        for (String name : twins.split(",")) {
            Path csv = (md == null ? Path.of("x") : Path.of(md).toAbsolutePath()).resolveSibling(name);
            for (Map.Entry<Long, Float> e : DoctorBenchmark.familyHealthyTwins(csv, healthyLimit).entrySet()) {
                GeneratedScenario g = new GeneratedScenario(FamilyGenerator.draw(e.getKey())).withOracle(e.getValue());
                cases.add(generated("healthy", g, e.getValue(), Float.NaN));
            }
        }
        String title = twins.equals("family-" + split + ".csv") ? split + " split" : split + " split, healthy twins of "
                + twins.replace(",", ", ");
        for (Object[] c : StructuralCases.draw(split.equals("tuning") ? FamilyGenerator.Split.TUNING
                : FamilyGenerator.Split.HELD_OUT, perKind)) {
            GeneratedScenario bad = new GeneratedScenario((Setup) c[1]);
            float best;
            try (ScenarioRun run = new GeneratedScenario((Setup) c[2]).open(bad.nominalLr())) {
                best = DoctorBenchmark.train(run, null, null);
            }
            cases.add(generated("structural", bad, bad.nominalLr(), best));
        }
        for (Scenario s : scenarios) {
            float reference;
            try (ScenarioRun run = s.open(Variant.REFERENCE)) {
                reference = DoctorBenchmark.train(run, null, null);
            }
            cases.add(zooCase("zoo", s, Variant.EXPLODING, reference));
        }

        Map<String, Tally> tallies = new java.util.LinkedHashMap<>();
        values.forEach(v -> tallies.put(v, new Tally()));
        // a case's runs for the planned steps, by recipe: the model as it is, and each distinct prescription
        Map<String, Float> trained = new HashMap<>();
        int done = 0;
        for (Case c : cases) {
            for (String v : values) {
                DoctorResult r;
                try (ScenarioRun run = c.asIs().get()) {
                    r = DoctorBenchmark.consult(c.blocks(), c.configs(), c.lr(), run, c.steps(),
                            b -> b.changeMargin(margin(v)).stuckReinit(!v.endsWith(NO_STUCK)));
                }
                Tally t = tallies.get(v);
                if (c.group().equals("healthy") && r.noChangeNeeded()) {
                    // left alone: nothing to train
                    t.healthy++;
                    t.unchanged++;
                    continue;
                }
                float asIs = trained.computeIfAbsent(c.name() + "|as-is", k -> {
                    try (ScenarioRun run = c.asIs().get()) {
                        return DoctorBenchmark.train(run, null, null);
                    }
                });
                String key = c.name() + "|" + r.chosen().name() + "|" + r.chosen().learningRate() + "|" + r.warmUpSteps();
                float followed = r.noChangeNeeded() ? asIs : trained.computeIfAbsent(key, k -> {
                    try (ScenarioRun run = c.atRate().apply((float) r.chosen().learningRate())) {
                        return DoctorBenchmark.trainPrescription(run, r);
                    }
                });
                switch (c.group()) {
                    case "healthy" -> {
                        t.healthy++;
                        t.helped += DoctorBenchmark.helped(followed, asIs) ? 1 : 0;
                        t.hurt += DoctorBenchmark.hurt(followed, asIs) ? 1 : 0;
                        t.changed.add(String.format(Locale.ROOT, "`%s` %s %s", c.name(), r.chosen().name(),
                                DoctorBenchmark.ratio(followed, asIs)));
                    }
                    case "structural" -> {
                        t.structural++;
                        t.within += StructuralCases.within(followed, c.best()) ? 1 : 0;
                    }
                    default -> t.zoo.add(String.format(Locale.ROOT, "`%s` %s", c.name(), DoctorBenchmark.ratio(followed,
                            c.best())));
                }
            }
            System.err.printf(Locale.ROOT, "doctor margin sweep: %d of %d cases (%s %s)%n", ++done, cases.size(), c.group(),
                    c.name());
        }
        String section = markdown(tallies, split, title, String.join(",", values), List.of(args).stream()
                .filter(a -> a.startsWith("--")).filter(a -> !a.startsWith("--split=") && !a.startsWith("--values="))
                .map(a -> " " + a).reduce("", String::concat));
        System.out.println(section);
        if (md != null) {
            OverheadBenchmark.replaceSection(Path.of(md), heading(title), section);
        }
    }

    private static Case zooCase(String group, Scenario s, Variant v, float best) {
        String name = s.name() + (v == Variant.REFERENCE ? " (reference)" : "");
        return new Case(group, name, DoctorBenchmark.blocks(s, v), DoctorBenchmark.configs(s, v), s.learningRate(v),
                () -> s.open(v), lr -> s.open(v, lr), s.steps(), best);
    }

    private static Case generated(String group, GeneratedScenario g, float lr, float best) {
        return new Case(group, group.equals("structural") ? g.setup().id() : g.name(), DoctorBenchmark.blocks(g, lr),
                DoctorBenchmark.configs(g), lr, () -> g.open(lr), g::open, g.steps(), best);
    }

    /** A candidate that ends so is consulted with {@code stuckReinit(false)}. */
    private static final String NO_STUCK = ":no-stuck";

    private static double margin(String candidate) {
        try {
            return Double.parseDouble(candidate.endsWith(NO_STUCK) ? candidate.substring(0, candidate.length()
                    - NO_STUCK.length()) : candidate);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--values: '" + candidate + "' is neither a number nor a number followed by "
                    + NO_STUCK, e);
        }
    }


    private static String heading(String title) {
        return "## Structure doctor: where the change margin comes from (" + title + ")";
    }

    private static String label(String candidate) {
        return fmt(margin(candidate)) + (candidate.endsWith(NO_STUCK) ? ", `no-stuck`" : "");
    }

    static String fmt(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }


    static String markdown(Map<String, Tally> tallies, String split, String title, String values, String more) {
        StringBuilder sb = new StringBuilder(heading(title)).append("\n\n");
        sb.append("Machine: ").append(String.format(Locale.ROOT, "%s %s, %d cores, Java %s", System.getProperty("os.name"),
                System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version")))
                .append(". Date: ").append(LocalDate.now()).append(". Engines: ").append(Engines.describe()).append(". ")
                .append(Engines.reproducibility()).append('\n');
        sb.append("Command: `./mvnw -q -B -pl benchmarks exec:exec -Dbench.main=io.gradguard.benchmarks.DoctorMarginSweep"
                + " \"-Dbench.args=--split=" + split + " --values=" + values + more + " RESULTS.md\"` (after the family benchmark"
                + " of the split).\n\n");
        sb.append("The doctor changes a model that trains (its trial finite) only when the best trial ends below the model as"
                + " it is divided by 1 + `changeMargin`, or when the model is stuck (activations and backward signal both out"
                + " of range with depth, and no learning in its trial) and a re-initialization ends lower (`stuckReinit`; a"
                + " value marked `no-stuck` turns that off)."
                + " Each value below, the doctor consulted on the cases of the structure"
                + " doctor's table of this split; a verdict that changes a model is followed for the planned steps and"
                + " compared with the model as it is (healthy models) or with the best known fix (structural cases, zoo"
                + " rows).\n\n");
        sb.append("| `changeMargin` | healthy: no change | changed healthy models: better / worse by more than 5% |"
                + " structural cases within 1.5x of the best known fix | zoo rows (doctor / best known fix) |\n");
        sb.append("|---|---|---|---|---|\n");
        for (Map.Entry<String, Tally> e : tallies.entrySet()) {
            Tally t = e.getValue();
            sb.append(String.format(Locale.ROOT, "| %s | %d of %d | %d / %d | %d of %d | %s |%n", label(e.getKey()), t.unchanged,
                    t.healthy, t.helped, t.hurt, t.within, t.structural, String.join(", ", t.zoo)));
        }
        sb.append("\nHealthy models each value changes (the prescription followed over the model as it is):\n\n");
        for (Map.Entry<String, Tally> e : tallies.entrySet()) {
            sb.append("- ").append(label(e.getKey())).append(": ").append(e.getValue().changed.isEmpty() ? "none"
                    : String.join("; ", e.getValue().changed)).append('\n');
        }
        return sb.toString();
    }
}
