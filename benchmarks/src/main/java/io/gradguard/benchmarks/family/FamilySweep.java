package io.gradguard.benchmarks.family;

import io.gradguard.benchmarks.OverheadBenchmark;
import io.gradguard.core.GuardConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How GradGuard's defaults were chosen: {@code auto} under each candidate setting on the tuning split (never
 * the held-out one), against the anchors' rows of that split's CSV, one table row per setting.
 *
 * <pre>./mvnw -q -B -pl benchmarks exec:exec -Dbench.main=io.gradguard.benchmarks.family.FamilyBenchmark \
 *     "-Dbench.args=--sweep=rollback.cut=0.5;rewarm.target=0.75|... --anchors=family-tuning.csv RESULTS.md"</pre>
 *
 * Each candidate is a {@code key=value;key=value} override of the defaults; {@code defaults} is the
 * defaults themselves. The anchors' rows come from {@code --anchors} (written by the tuning split's run).
 * {@code --section=NAME} writes a section of its own, "... sweep: NAME" (underscores read as spaces), beside the
 * earlier sweeps instead of over them. When {@code defaults} is among the candidates, every other candidate's row also
 * says how many set-ups it ended more than 5% better and worse than the defaults, and how many crossed the 1.5x line
 * into and out of it: a summary that moves by a point can hide dozens of set-ups moving both ways.
 */
final class FamilySweep {

    private FamilySweep() {}

    /**
     * An oracle cache ({@link FamilyRunner}'s format) written from the rows' oracle columns: the grid points are
     * powers of two times a round nominal rate, so the CSV's decimal reads back as the same float.
     */
    private static Path oracleCache(List<FamilyRow> rows) throws IOException {
        Path f = Files.createTempFile("gradguard-oracles", ".csv");
        f.toFile().deleteOnExit();
        StringBuilder sb = new StringBuilder();
        rows.stream().filter(r -> r.engine().equals("djl")).map(r -> String.format(Locale.ROOT, "%d,%s,%s,%s,-%n",
                r.seed(), r.setup(), Float.toString((float) r.oracleLr()), Float.toString((float) r.oracleLoss())))
                .distinct().forEach(sb::append);
        Files.writeString(f, sb);
        return f;
    }

    static void run(Map<String, String> opt, String md) throws IOException, InterruptedException {
        String anchorsArg = opt.getOrDefault("anchors", "family-tuning.csv");
        List<FamilyRow> given = new ArrayList<>();
        for (String name : anchorsArg.split(",")) {
            Path file = Path.of(name.trim());
            if (!Files.exists(file)) {
                throw new IllegalArgumentException("--anchors file " + file + " not found: run the tuning split first"
                        + " (--split=tuning RESULTS.md writes family-tuning.csv; the extended set's command is in RESULTS.md)");
            }
            given.addAll(FamilyBenchmark.read(file));
        }
        // every set-up of the files is swept, also those run for GradGuard alone (they have no anchors to compare with)
        List<FamilyRow> anchors = given.stream().filter(r -> !r.policy().equals(FamilyReport.AUTO)).toList();
        List<String> items = new ArrayList<>(given.stream().map(r -> r.engine() + ":" + r.seed()).distinct().toList());
        if (!opt.containsKey("oracles")) {
            // the files hold each set-up's oracle: no candidate searches it again
            opt = new LinkedHashMap<>(opt);
            opt.put("oracles", oracleCache(given).toString());
        }
        int workers = Integer.parseInt(opt.getOrDefault("workers", Integer.toString(Runtime.getRuntime().availableProcessors())));
        List<String> candidates = List.of(opt.get("sweep").split("\\|"));
        Map<String, String> lines = new LinkedHashMap<>();
        Map<String, Map<String, Double>> ratios = new LinkedHashMap<>();
        for (String candidate : candidates) {
            String overrides = candidate.equals("defaults") ? "" : candidate;
            GuardConfig config = FamilyBenchmark.config(overrides);
            Map<String, String> sub = new LinkedHashMap<>(opt);
            sub.remove("sweep");
            sub.put("policies", FamilyReport.AUTO);
            sub.put("config", overrides);
            long t0 = System.nanoTime();
            List<FamilyRow> rows = new ArrayList<>(workers <= 1
                    ? FamilyBenchmark.runHere(items, List.of(FamilyPolicy.gradGuard(config)),
                            List.of(FamilyRunner.Twin.EXPLODING, FamilyRunner.Twin.HEALTHY), null, config)
                    : FamilyBenchmark.runInWorkers(items, workers, sub));
            ratios.put(candidate, autoRatios(rows));
            rows.addAll(anchors);
            FamilyReport report = new FamilyReport(rows);
            FamilyReport.PolicyStats a = report.stats(FamilyReport.AUTO);
            FamilyReport.Goals g = report.goals();
            String line = String.format(Locale.ROOT, "| `%s` | %s | %s | %d | %s | %d of %d |", candidate,
                    Double.isInfinite(a.median()) ? "failed" : FamilyReport.fmt(a.median()) + "x", FamilyReport.pct(a.within15()),
                    a.nan() + a.halted() + a.collapsed(), FamilyReport.pct(g.vsBestAnchor()), a.healthyIntervened(), a.healthyN());
            System.err.printf(Locale.ROOT, "%s (%.1f min)%n", line, (System.nanoTime() - t0) / 60e9);
            lines.put(candidate, line);
        }
        // row by row against the defaults of the same sweep: a summary that moves a point may hide dozens of set-ups
        // moving both ways (one run per set-up: an exploding run that takes another path at one step ends elsewhere)
        Map<String, Double> base = ratios.get("defaults");
        StringBuilder table = new StringBuilder("| candidate | median ratio | within 1.5x | failed | better or tied with the"
                + " best anchor | healthy twins changed |" + (base == null ? "" : " set-ups better / worse than `defaults`"
                        + " (by more than 5%) | crossing 1.5x (into / out of) |") + "\n|---|---|---|---|---|---|"
                + (base == null ? "" : "---|---|") + "\n");
        for (String candidate : candidates) {
            table.append(lines.get(candidate));
            if (base != null) {
                Versus v = versus(base, ratios.get(candidate));
                table.append(candidate.equals("defaults") ? " — | — |"
                        : String.format(Locale.ROOT, " %d / %d | %d / %d |", v.better(), v.worse(), v.into(), v.out()));
            }
            table.append('\n');
        }
        // several files: the tuning split with its extended seeds, a section of its own beside the first sweep's
        String title = (anchorsArg.contains(",") ? "## Family tuning sweep, extended tuning set" : "## Family tuning sweep")
                + (opt.containsKey("section") ? ": " + opt.get("section").replace('_', ' ') : "");
        String section = title + "\n\n"
                + "Date: " + LocalDate.now() + ". GradGuard `auto` under each candidate setting on the tuning split only (the"
                + " held-out split was never run with these), against the anchors' rows of `" + anchorsArg
                + "`; " + (items.size()) + " set-ups, the same definitions as the family tables. The defaults are the"
                + " candidate named `defaults`." + (anchorsArg.contains(",") ? " The extended tuning set is the tuning split's"
                        + " set-ups (`family-tuning.csv`), 40 more seeds with every anchor (`family-tuning-extra.csv`, written by"
                        + " `--split=tuning --from=66 --count=40 --tf-count=0`) and 100 more run for GradGuard alone"
                        + " (`family-tuning-more.csv`, by `--split=tuning --from=106 --count=60 --tf-count=40"
                        + " --policies=gradguard-auto`), all from the tuning split's seed range; \"better or tied\" counts the"
                        + " set-ups that have anchors." : "") + "\nCommand: `./mvnw -q -B -pl benchmarks exec:exec"
                + " -Dbench.main=io.gradguard.benchmarks.family.FamilyBenchmark \"-Dbench.args=--sweep=" + opt.get("sweep")
                + " --anchors=" + anchorsArg + (opt.containsKey("section") ? " --section=" + opt.get("section") : "")
                + " RESULTS.md\"` (after the tuning split's run).\n\n" + table;
        System.out.println(section);
        if (md != null) {
            OverheadBenchmark.replaceSection(Path.of(md), title, section);
        }
    }

    /** @return {@code auto}'s ratio on each exploding twin whose oracle learned, by engine and set-up */
    private static Map<String, Double> autoRatios(List<FamilyRow> rows) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (FamilyRow r : rows) {
            if (r.policy().equals(FamilyReport.AUTO) && r.twin().equals(FamilyRunner.Twin.EXPLODING.word()) && r.learnable()) {
                out.put(r.engine() + ":" + r.setup(), r.ratio());
            }
        }
        return out;
    }

    /**
     * How a candidate's rows compare with the base's, set-up by set-up.
     *
     * @param better set-ups where the candidate ends more than {@link FamilyReport#TIE} below the base (a finite ratio
     *     where the base failed counts)
     * @param worse set-ups where it ends more than that above (or fails where the base did not)
     * @param into set-ups the candidate ends within 1.5x and the base did not
     * @param out set-ups the base ended within 1.5x and the candidate does not
     */
    record Versus(int better, int worse, int into, int out) {}

    /**
     * @param base the base's ratio per set-up (failures are +Infinity)
     * @param candidate the candidate's, over the same set-ups
     * @return the set-ups that moved, in each direction
     * @throws IllegalArgumentException when the two do not cover the same set-ups
     */
    static Versus versus(Map<String, Double> base, Map<String, Double> candidate) {
        if (!base.keySet().equals(candidate.keySet())) {
            throw new IllegalArgumentException("the candidate ran " + candidate.size() + " set-ups and the defaults "
                    + base.size() + ", not the same ones: the row-by-row comparison needs both on the same set");
        }
        int better = 0;
        int worse = 0;
        int into = 0;
        int out = 0;
        for (Map.Entry<String, Double> e : base.entrySet()) {
            double b = e.getValue();
            double c = candidate.get(e.getKey());
            better += FamilyReport.tiedOrBetter(b, c) ? 0 : 1;
            worse += FamilyReport.tiedOrBetter(c, b) ? 0 : 1;
            into += c <= 1.5 && !(b <= 1.5) ? 1 : 0;
            out += b <= 1.5 && !(c <= 1.5) ? 1 : 0;
        }
        return new Versus(better, worse, into, out);
    }
}
