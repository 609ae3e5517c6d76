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
 */
final class FamilySweep {

    private FamilySweep() {}

    static void run(Map<String, String> opt, String md) throws IOException, InterruptedException {
        Path anchorsFile = Path.of(opt.getOrDefault("anchors", "family-tuning.csv"));
        if (!Files.exists(anchorsFile)) {
            throw new IllegalArgumentException("--anchors file " + anchorsFile + " not found: run the tuning split first"
                    + " (--split=tuning RESULTS.md writes family-tuning.csv)");
        }
        List<FamilyRow> anchors = FamilyBenchmark.read(anchorsFile).stream()
                .filter(r -> !r.policy().equals(FamilyReport.AUTO)).toList();
        List<String> items = new ArrayList<>(anchors.stream().map(r -> r.engine() + ":" + r.seed()).distinct().toList());
        int workers = Integer.parseInt(opt.getOrDefault("workers", Integer.toString(Runtime.getRuntime().availableProcessors())));
        StringBuilder table = new StringBuilder("| candidate | median ratio | within 1.5x | failed | better or tied with the"
                + " best anchor | healthy twins changed |\n|---|---|---|---|---|---|\n");
        for (String candidate : opt.get("sweep").split("\\|")) {
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
            rows.addAll(anchors);
            FamilyReport report = new FamilyReport(rows);
            FamilyReport.PolicyStats a = report.stats(FamilyReport.AUTO);
            FamilyReport.Goals g = report.goals();
            String line = String.format(Locale.ROOT, "| `%s` | %s | %s | %d | %s | %d of %d |", candidate,
                    Double.isInfinite(a.median()) ? "failed" : FamilyReport.fmt(a.median()) + "x", FamilyReport.pct(a.within15()),
                    a.nan() + a.halted() + a.collapsed(), FamilyReport.pct(g.vsBestAnchor()), a.healthyIntervened(), a.healthyN());
            System.err.printf(Locale.ROOT, "%s (%.1f min)%n", line, (System.nanoTime() - t0) / 60e9);
            table.append(line).append('\n');
        }
        String section = "## Family tuning sweep\n\n"
                + "Date: " + LocalDate.now() + ". GradGuard `auto` under each candidate setting on the tuning split only (the"
                + " held-out split was never run with these), against the anchors' rows of `" + anchorsFile.getFileName()
                + "`; " + (items.size()) + " set-ups, the same definitions as the family tables. The defaults are the"
                + " candidate named `defaults`.\nCommand: `./mvnw -q -B -pl benchmarks exec:exec"
                + " -Dbench.main=io.gradguard.benchmarks.family.FamilyBenchmark \"-Dbench.args=--sweep=" + opt.get("sweep")
                + " --anchors=" + anchorsFile.getFileName() + " RESULTS.md\"` (after the tuning split's run).\n\n" + table;
        System.out.println(section);
        if (md != null) {
            OverheadBenchmark.replaceSection(Path.of(md), "## Family tuning sweep", section);
        }
    }
}
