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
 * (default 0.5,1,2,4: change margins; a value followed by {@code :no-stuck} is consulted with {@code stuckReinit(false)},
 * by {@code :stuck=M} with {@code stuckMargin(M)}, by {@code :swap=M} with {@code cellSwapMargin(M)}, by
 * {@code :no-swap} with {@code cellSwap(false)}; a set of values with a swap modifier writes the section "where the
 * cell-swap margin comes from", one with a {@code stuck=} modifier "where the stuck margin comes from"),
 * {@code --kinds=a,b} (structural kinds to draw, default all: bad-init, no-norm, vanilla-rnn),
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
        Map<String, Candidate> candidates = new java.util.LinkedHashMap<>();
        values.forEach(v -> candidates.put(v, Candidate.parse(v)));
        boolean cellSwap = candidates.values().stream().anyMatch(Candidate::swapModifier);
        boolean stuckMargin = candidates.values().stream().anyMatch(Candidate::stuckModifier);
        if (cellSwap && stuckMargin) {
            throw new IllegalArgumentException("--values: sweep the cell-swap margin (swap=) or the stuck margin (stuck=),"
                    + " not both in one set: each writes its own section");
        }
        String rule = cellSwap ? "cell-swap" : stuckMargin ? "stuck" : "change";
        List<String> kinds = List.of(DoctorBenchmark.option(args, "--kinds=", String.join(",", StructuralCases.KINDS))
                .split(","));
        for (String k : kinds) {
            if (!StructuralCases.KINDS.contains(k)) {
                throw new IllegalArgumentException("--kinds: '" + k + "' is none of " + StructuralCases.KINDS);
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
            if (!kinds.contains((String) c[0])) {
                continue;
            }
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
                            candidates.get(v)::apply);
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
        String section = markdown(tallies, candidates, rule, split, title, String.join(",", values), List.of(args).stream()
                .filter(a -> a.startsWith("--")).filter(a -> !a.startsWith("--split=") && !a.startsWith("--values="))
                .map(a -> " " + a).reduce("", String::concat));
        System.out.println(section);
        if (md != null) {
            OverheadBenchmark.replaceSection(Path.of(md), heading(title, rule), section);
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

    /**
     * One candidate setting: the change margin, the stuck rule's margin (NaN: the rule off) and the cell-swap margin
     * (NaN: the rule off, the doctor's default). Written {@code 2}, {@code 2:no-stuck}, {@code 2:stuck=0.05} (the stuck
     * rule at that margin), {@code 2:swap=0.5} (the cell-swap rule on, at that margin), {@code 2:no-swap} (off, said
     * outright), or with several modifiers; without one, the doctor's defaults.
     */
    record Candidate(String text, double margin, double stuck, double swap) {

        static Candidate parse(String text) {
            String[] parts = text.split(":");
            double margin;
            try {
                margin = Double.parseDouble(parts[0]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--values: '" + text + "' does not start with a number (the change"
                        + " margin)", e);
            }
            if (!(margin >= 0 && margin <= 10)) {
                throw new IllegalArgumentException("--values: " + text + " is outside [0, 10] (Doctor.builder().changeMargin)");
            }
            double stuck = Doctor.DEFAULT_STUCK_MARGIN;
            double swap = Double.NaN;
            for (int i = 1; i < parts.length; i++) {
                if (parts[i].equals("no-stuck")) {
                    stuck = Double.NaN;
                } else if (parts[i].equals("no-swap")) {
                    swap = Double.NaN;
                } else if (parts[i].startsWith("stuck=")) {
                    stuck = number(parts[i], "stuck=", text, "stuckMargin");
                } else if (parts[i].startsWith("swap=")) {
                    swap = number(parts[i], "swap=", text, "cellSwapMargin");
                } else {
                    throw new IllegalArgumentException("--values: '" + parts[i] + "' in '" + text + "' is none of no-stuck,"
                            + " stuck=<number>, no-swap, swap=<number>");
                }
            }
            return new Candidate(text, margin, stuck, swap);
        }

        private static double number(String part, String prefix, String text, String builderMethod) {
            double v;
            try {
                v = Double.parseDouble(part.substring(prefix.length()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--values: '" + part + "' in '" + text + "' is not " + prefix
                        + "<number>", e);
            }
            if (!(v >= 0 && v <= 10)) {
                throw new IllegalArgumentException("--values: " + part + " is outside [0, 10] (Doctor.builder()."
                        + builderMethod + ")");
            }
            return v;
        }

        Doctor.Builder apply(Doctor.Builder b) {
            b.changeMargin(margin).stuckReinit(!Double.isNaN(stuck)).cellSwap(!Double.isNaN(swap));
            if (!Double.isNaN(stuck)) {
                b.stuckMargin(stuck);
            }
            return Double.isNaN(swap) ? b : b.cellSwapMargin(swap);
        }

        boolean swapModifier() {
            return text.contains("swap");
        }

        boolean stuckModifier() {
            return text.contains("stuck=");
        }

        String label() {
            return fmt(margin) + (Double.isNaN(stuck) ? ", `no-stuck`" : stuckModifier() ? ", stuck margin " + fmt(stuck) : "")
                    + (!swapModifier() ? "" : Double.isNaN(swap) ? ", `no-swap`" : ", cell swap " + fmt(swap));
        }
    }

    /** @return the section's heading: the rule whose margin the set of values sweeps, and the cases */
    private static String heading(String title, String rule) {
        return "## Structure doctor: where the " + rule + " margin comes from (" + title + ")";
    }

    static String fmt(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }


    static String markdown(Map<String, Tally> tallies, Map<String, Candidate> candidates, String rule, String split,
            String title, String values, String more) {
        boolean cellSwap = rule.equals("cell-swap");
        StringBuilder sb = new StringBuilder(heading(title, rule)).append("\n\n");
        sb.append("Machine: ").append(String.format(Locale.ROOT, "%s %s, %d cores, Java %s", System.getProperty("os.name"),
                System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version")))
                .append(". Date: ").append(LocalDate.now()).append(". Engines: ").append(Engines.describe()).append(". ")
                .append(Engines.reproducibility()).append('\n');
        sb.append("Command: `./mvnw -q -B -pl benchmarks exec:exec -Dbench.main=io.gradguard.benchmarks.DoctorMarginSweep"
                + " \"-Dbench.args=--split=" + split + " --values=" + values + more + " RESULTS.md\"` (after the family benchmark"
                + " of the split).\n\n");
        sb.append("The doctor changes a model that trains (its trial finite) only when the best trial ends below the model as"
                + " it is divided by 1 + `changeMargin`, or when the model is stuck (activations and backward signal both out"
                + " of range with depth, and no learning in its trial) and a re-initialization ends below it divided by 1 +"
                + " `stuckMargin` (`stuckReinit`, default margin " + fmt(Doctor.DEFAULT_STUCK_MARGIN) + "; a value marked"
                + " `no-stuck` turns that off" + (rule.equals("stuck") ? ", `stuck=M` sets the margin to M" : "") + ")"
                + (!cellSwap ? "." : ", or, with the cell-swap rule on"
                + " (`cellSwap`, off by default; a value marked `swap=M` turns it on at margin M, `no-swap` says it is"
                + " off), when it holds a vanilla recurrent cell and a cell-swap trial at its rate ends below it divided by"
                + " 1 + `cellSwapMargin`.")
                + " Each value below, the doctor consulted on the cases of the structure"
                + " doctor's table of this split; a verdict that changes a model is followed for the planned steps and"
                + " compared with the model as it is (healthy models) or with the best known fix (structural cases, zoo"
                + " rows).\n\n");
        sb.append("| " + (cellSwap ? "`changeMargin`, cell swap" : rule.equals("stuck") ? "`changeMargin`, stuck rule"
                : "`changeMargin`") + " | healthy: no change | changed healthy models: better / worse by more than 5% |"
                + " structural cases within 1.5x of the best known fix | zoo rows (doctor / best known fix) |\n");
        sb.append("|---|---|---|---|---|\n");
        for (Map.Entry<String, Tally> e : tallies.entrySet()) {
            Tally t = e.getValue();
            sb.append(String.format(Locale.ROOT, "| %s | %d of %d | %d / %d | %d of %d | %s |%n",
                    candidates.get(e.getKey()).label(), t.unchanged,
                    t.healthy, t.helped, t.hurt, t.within, t.structural, String.join(", ", t.zoo)));
        }
        sb.append("\nHealthy models each value changes (the prescription followed over the model as it is):\n\n");
        for (Map.Entry<String, Tally> e : tallies.entrySet()) {
            sb.append("- ").append(candidates.get(e.getKey()).label()).append(": ").append(e.getValue().changed.isEmpty() ? "none"
                    : String.join("; ", e.getValue().changed)).append('\n');
        }
        return sb.toString();
    }
}
