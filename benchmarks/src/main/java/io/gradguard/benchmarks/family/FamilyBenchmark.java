package io.gradguard.benchmarks.family;

import io.gradguard.benchmarks.Engines;

import io.gradguard.benchmarks.OverheadBenchmark;
import io.gradguard.core.ConfigSources;
import io.gradguard.core.GuardConfig;
import io.gradguard.models.family.FamilyGenerator;
import io.gradguard.models.family.FamilyGenerator.Split;
import io.gradguard.models.family.Setup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The generated family: every policy on the exploding and the healthy twin of each set-up of a split,
 * compared with the set-up's oracle, row by row.
 *
 * <pre>./mvnw -q -B install -DskipTests &amp;&amp; ./mvnw -q -B -pl benchmarks exec:exec \
 *     -Dbench.main=io.gradguard.benchmarks.family.FamilyBenchmark -Dbench.args="--split=held-out RESULTS.md"</pre>
 *
 * Options: {@code --split=held-out|tuning} (default held-out), {@code --count=N} set-ups (default 66),
 * {@code --workers=N} worker JVMs (default: the number of cores; each runs PyTorch on one thread),
 * {@code --policies=a,b} (default all), {@code --twins=exploding|healthy|both}, {@code --config=k=v;k=v}
 * (GradGuard overrides, for tuning on the tuning split), {@code --oracles=FILE} (cache of oracle searches),
 * {@code --rows=FILE} (the per-run CSV; default {@code family-<split>.csv} beside the Markdown file),
 * {@code --report=FILE} (only re-report an existing CSV), a {@code .md} path (the section of RESULTS.md to
 * write), {@code --smoke} (three short set-ups, one worker, no files), {@code --tf-count=N} TensorFlow
 * set-ups (default 16), {@code --sweep=CFG|CFG|...} (see {@link FamilySweep}).
 */
public final class FamilyBenchmark {

    private FamilyBenchmark() {}

    /**
     * Entry point.
     *
     * @param rawArgs the options
     * @throws Exception on failure
     */
    public static void main(String[] rawArgs) throws Exception {
        // exec:exec hands -Dbench.args over as one argument
        List<String> args = Arrays.stream(String.join(" ", rawArgs).trim().split("\\s+")).filter(a -> !a.isEmpty()).toList();
        Map<String, String> opt = new LinkedHashMap<>();
        String md = null;
        for (String a : args) {
            if (a.startsWith("--")) {
                int eq = a.indexOf('=');
                opt.put(eq < 0 ? a.substring(2) : a.substring(2, eq), eq < 0 ? "true" : a.substring(eq + 1));
            } else if (a.endsWith(".md")) {
                md = a;
            } else {
                throw new IllegalArgumentException("unknown argument '" + a + "'; see FamilyBenchmark's Javadoc");
            }
        }
        GuardConfig config = config(opt.get("config"));
        List<FamilyPolicy> policies = policies(opt.get("policies"), config);
        List<FamilyRunner.Twin> twins = switch (opt.getOrDefault("twins", "both")) {
            case "both" -> List.of(FamilyRunner.Twin.EXPLODING, FamilyRunner.Twin.HEALTHY);
            case "exploding" -> List.of(FamilyRunner.Twin.EXPLODING);
            case "healthy" -> List.of(FamilyRunner.Twin.HEALTHY);
            default -> throw new IllegalArgumentException("--twins must be exploding, healthy or both, but was '"
                    + opt.get("twins") + "'");
        };
        Path oracles = opt.containsKey("oracles") ? Path.of(opt.get("oracles")) : null;
        if (opt.containsKey("worker")) {
            worker(opt, policies, twins, oracles, config);
            return;
        }
        if (opt.containsKey("sweep")) {
            FamilySweep.run(opt, md);
            return;
        }
        if (opt.containsKey("report") && !opt.containsKey("split")) {
            // a re-report belongs to the split its rows come from, not to the default one
            List<FamilyRow> given = read(Path.of(opt.get("report")));
            if (!given.isEmpty()) {
                opt.put("split", given.get(0).split());
            }
        }
        Split split = switch (opt.getOrDefault("split", "held-out")) {
            case "held-out" -> Split.HELD_OUT;
            case "tuning" -> Split.TUNING;
            default -> throw new IllegalArgumentException("--split must be held-out or tuning, but was '" + opt.get("split") + "'");
        };
        String splitWord = split == Split.TUNING ? "tuning" : "held-out";
        boolean smoke = opt.containsKey("smoke");
        Path rowsFile = opt.containsKey("rows") ? Path.of(opt.get("rows"))
                : md == null ? null : Path.of(md).toAbsolutePath().resolveSibling("family-" + splitWord + ".csv");
        List<FamilyRow> rows;
        if (opt.containsKey("report")) {
            rows = read(Path.of(opt.get("report")));
        } else {
            int count = Integer.parseInt(opt.getOrDefault("count", smoke ? "3" : "66"));
            int tfCount = Integer.parseInt(opt.getOrDefault("tf-count", smoke ? "1" : "16"));
            int from = Integer.parseInt(opt.getOrDefault("from", "0"));
            List<Long> seeds = split.seeds(from + count).subList(from, from + count);
            List<String> items = new ArrayList<>();
            if (smoke) {
                items.addAll(smokeItems(split));
            } else {
                seeds.forEach(s -> items.add("djl:" + s));
                split.seeds(from + tfCount).subList(from, from + tfCount).forEach(s -> items.add("tf:" + s));
            }
            int workers = Integer.parseInt(opt.getOrDefault("workers",
                    Integer.toString(smoke ? 1 : Runtime.getRuntime().availableProcessors())));
            long t0 = System.nanoTime();
            rows = workers <= 1 ? runHere(items, policies, twins, oracles, config) : runInWorkers(items, workers, opt);
            System.err.printf(Locale.ROOT, "family: %d set-ups, %d runs, %.1f min%n", items.size(), rows.size(),
                    (System.nanoTime() - t0) / 60e9);
        }
        rows.sort(Comparator.comparing(FamilyRow::engine).thenComparingLong(FamilyRow::seed));
        if (rowsFile != null && !opt.containsKey("report")) {
            Files.writeString(rowsFile, FamilyRow.csv(rows));
        }
        FamilyReport report = new FamilyReport(rows);
        String section = section(report, splitWord, config, md, rowsFile);
        System.out.println(section);
        if (md != null) {
            Path svg = Path.of(md).toAbsolutePath().resolveSibling("family-" + splitWord + ".svg");
            Files.writeString(svg, FamilyChart.svg(report, splitWord));
            OverheadBenchmark.replaceSection(Path.of(md), "## Family (" + splitWord + " split)", section);
        }
    }

    /** The smoke run: the shortest set-ups of the first 40 seeds, one per architecture family where possible. */
    static List<Long> smokeSeeds(Split split, int count) {
        List<Setup> setups = new ArrayList<>();
        for (long s : split.seeds(40)) {
            setups.add(FamilyGenerator.draw(s));
        }
        setups.sort(Comparator.comparingInt(Setup::steps));
        List<Long> out = new ArrayList<>();
        List<String> archs = new ArrayList<>();
        for (Setup s : setups) {
            String family = s.arch().recurrent() ? "recurrent" : s.arch().name();
            if (!archs.contains(family) && s.arch() != Setup.Arch.ATTENTION) {
                archs.add(family);
                out.add(s.seed());
            }
            if (out.size() == count) {
                break;
            }
        }
        return out;
    }

    /**
     * The smoke run's work items: the shortest DJL set-up of each architecture family among the first 40 seeds
     * (attention left out for time) and the shortest TensorFlow set-up of the first 20.
     *
     * @param split the split
     * @return the items
     */
    static List<String> smokeItems(Split split) {
        List<String> items = new ArrayList<>();
        smokeSeeds(split, 3).forEach(s -> items.add("djl:" + s));
        items.add("tf:" + smokeTfSeed(split));
        return items;
    }

    /** The smoke run's TensorFlow set-up: the shortest of the first 20 seeds. */
    static long smokeTfSeed(Split split) {
        return split.seeds(20).stream().min(Comparator.comparingInt(s -> io.gradguard.models.family.tf.TfFamily.draw(s).steps()))
                .orElseThrow();
    }

    static GuardConfig config(String overrides) {
        GuardConfig.Builder b = GuardConfig.from(ConfigSources.fromEnvironment());
        if (overrides != null && !overrides.isBlank()) {
            for (String kv : overrides.split(";")) {
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--config wants key=value;key=value, but got '" + kv + "'");
                }
                b.set(kv.substring(0, eq), kv.substring(eq + 1), "--config");
            }
        }
        return b.build();
    }

    static List<FamilyPolicy> policies(String keys, GuardConfig config) {
        if (keys == null) {
            List<FamilyPolicy> all = new ArrayList<>(FamilyPolicy.all());
            all.set(all.size() - 1, FamilyPolicy.gradGuard(config));
            return all;
        }
        List<FamilyPolicy> out = new ArrayList<>();
        for (String k : keys.split(",")) {
            out.add(FamilyPolicy.byKey(k.trim(), config));
        }
        return out;
    }

    static List<FamilyRow> runHere(List<String> items, List<FamilyPolicy> policies, List<FamilyRunner.Twin> twins,
            Path oracles, GuardConfig config) {
        Items runner = new Items(policies, twins, oracles, config);
        List<FamilyRow> rows = new ArrayList<>();
        for (String item : items) {
            List<FamilyRow> r = runner.run(item);
            progress("", r);
            rows.addAll(r);
        }
        return rows;
    }

    /** Work items: {@code djl:SEED} or {@code tf:SEED}. */
    private static final class Items {
        private final FamilyRunner djl;
        private final TfFamilyRunner tf;

        Items(List<FamilyPolicy> policies, List<FamilyRunner.Twin> twins, Path oracles, GuardConfig config) {
            djl = new FamilyRunner(policies, twins, oracles);
            tf = new TfFamilyRunner(policies.stream().map(FamilyPolicy::key).toList(), twins, config);
        }

        List<FamilyRow> run(String item) {
            long seed = Long.parseLong(item.substring(item.indexOf(':') + 1));
            return item.startsWith("tf:") ? tf.run(seed) : djl.run(seed);
        }
    }

    private static void worker(Map<String, String> opt, List<FamilyPolicy> policies, List<FamilyRunner.Twin> twins,
            Path oracles, GuardConfig config) throws IOException {
        Path out = Path.of(opt.get("rows"));
        String tag = opt.getOrDefault("tag", "");
        Items items = new Items(policies, twins, oracles, config);
        for (String s : opt.get("items").split(",")) {
            List<FamilyRow> r = items.run(s);
            StringBuilder sb = new StringBuilder();
            r.forEach(row -> sb.append(row.csv()).append('\n'));
            Files.writeString(out, sb, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            progress(tag, r);
        }
    }

    private static void progress(String tag, List<FamilyRow> r) {
        FamilyRow first = r.get(0);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s%-52s x%-5.1f oracle %.3g:", tag, first.setup(),
                first.multiplier(), first.oracleLoss()));
        double secs = 0;
        for (FamilyRow row : r) {
            secs += row.seconds();
            if (row.twin().equals("exploding")) {
                sb.append(' ').append(row.policy().replace("gradguard-", "")).append('=')
                        .append(row.failed() ? row.result() : String.format(Locale.ROOT, "%.2f", row.ratio()));
            }
        }
        System.err.println(sb.append(String.format(Locale.ROOT, " (%.0f s)", secs)));
    }

    static List<FamilyRow> runInWorkers(List<String> items, int workers, Map<String, String> opt)
            throws IOException, InterruptedException {
        // longest first onto the least loaded worker, by an estimate of the set-up's cost
        List<String> sorted = new ArrayList<>(items);
        sorted.sort(Comparator.comparingDouble(FamilyBenchmark::cost).reversed());
        List<List<String>> shards = new ArrayList<>();
        double[] load = new double[workers];
        for (int w = 0; w < workers; w++) {
            shards.add(new ArrayList<>());
        }
        for (String s : sorted) {
            int w = 0;
            for (int k = 1; k < workers; k++) {
                w = load[k] < load[w] ? k : w;
            }
            shards.get(w).add(s);
            load[w] += cost(s);
        }
        Path dir = Files.createTempDirectory("gradguard-family");
        List<Process> procs = new ArrayList<>();
        List<Path> outs = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            if (shards.get(w).isEmpty()) {
                continue;
            }
            Path out = dir.resolve("rows-" + w + ".csv");
            outs.add(out);
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx3g", "-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=error",
                    "-cp", System.getProperty("java.class.path"), FamilyBenchmark.class.getName(), "--worker",
                    "--rows=" + out, "--tag=[" + w + "] ", "--items=" + String.join(",", shards.get(w))));
            for (String k : List.of("policies", "twins", "config", "oracles")) {
                if (opt.containsKey(k)) {
                    cmd.add("--" + k + "=" + opt.get(k));
                }
            }
            ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
            // one PyTorch thread per worker: the workers use the cores, and tiny models gain nothing from two
            pb.environment().put("OMP_NUM_THREADS", "1");
            procs.add(pb.start());
        }
        for (Process p : procs) {
            if (p.waitFor() != 0) {
                throw new IllegalStateException("a family worker failed with exit code " + p.exitValue());
            }
        }
        List<FamilyRow> rows = new ArrayList<>();
        for (Path out : outs) {
            rows.addAll(read(out));
        }
        return rows;
    }

    /** A rough cost of a work item (steps times a per-architecture step cost), to balance the workers. */
    static double cost(String item) {
        long seed = Long.parseLong(item.substring(item.indexOf(':') + 1));
        if (item.startsWith("tf:")) {
            Setup t = io.gradguard.models.family.tf.TfFamily.draw(seed);
            return t.steps() * (1 + t.depth() / 8.0) * 1.5;
        }
        Setup s = FamilyGenerator.draw(seed);
        double perStep = switch (s.arch()) {
            case ATTENTION -> 2 + s.depth();
            case CONV -> 1 + s.depth() * s.width() / 12.0;
            case RNN, GRU, LSTM -> 1 + s.length() / 8.0;
            default -> 1 + s.depth() / 8.0;
        };
        return s.steps() * perStep;
    }

    static List<FamilyRow> read(Path csv) throws IOException {
        List<FamilyRow> rows = new ArrayList<>();
        for (String line : Files.readAllLines(csv)) {
            if (!line.isBlank() && !line.startsWith("seed,")) {
                rows.add(FamilyRow.parse(line));
            }
        }
        return rows;
    }

    static String section(FamilyReport report, String split, GuardConfig config, String md, Path rowsFile) {
        String machine = String.format(Locale.ROOT, "%s %s, %d cores, Java %s", System.getProperty("os.name"),
                System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        StringBuilder sb = new StringBuilder();
        sb.append("## Family (").append(split).append(" split)\n\n");
        sb.append("Machine: ").append(machine).append(". Date: ").append(LocalDate.now()).append(". Engines: ")
                .append(Engines.describe()).append(". ")
                .append(Engines.reproducibility()).append(' ')
                .append("\nCommand: `./mvnw -q -B install -DskipTests && ./mvnw -q -B -pl benchmarks exec:exec"
                        + " -Dbench.main=io.gradguard.benchmarks.family.FamilyBenchmark \"-Dbench.args=--split=")
                .append(split).append(" RESULTS.md\"`")
                .append(rowsFile == null ? "" : "; every run is a line of `" + rowsFile.getFileName() + "`")
                .append(md == null ? "" : ", the picture is `family-" + split + ".svg`").append(".\n\n");
        sb.append(String.format(Locale.ROOT, "%d set-ups of the %s split (seeds from %d) whose oracle learned something"
                + " (%d more whose oracle ended above %.0f%% of the constant predictor's loss are left out). Each set-up's"
                + " oracle is the best point of an unguarded learning-rate grid in factors of 2; its exploding twin trains"
                + " at %.0fx to %.0fx that rate (log-uniform), its healthy twin at the oracle rate. Every policy gets the"
                + " set-up's steps as its budget of gradient evaluations. A cell's ratio is the final loss on the clean"
                + " evaluation set over the oracle's (a loss below %.0f%% of the constant predictor's counts as %.0f%%: both solved the"
                + " task); NaN, a halt, and a collapse (finite, at or above %.0f%% of the constant"
                + " predictor's loss) are failures and count as worse than any finite ratio. Best or tied: within %.0f%% of"
                + " the best policy on that set-up. GradGuard: `%s`.%n%n",
                report.setups(), split, split.equals("tuning") ? Split.TUNING.firstSeed() : Split.HELD_OUT.firstSeed(),
                report.unlearnable(), 100 * FamilyRow.LEARNED_FRACTION, FamilyGenerator.MIN_MULTIPLIER,
                FamilyGenerator.MAX_MULTIPLIER, 100 * FamilyRow.SOLVED_FRACTION, 100 * FamilyRow.SOLVED_FRACTION,
                100 * FamilyRow.COLLAPSE_FRACTION, 100 * FamilyReport.TIE,
                config.equals(GuardConfig.ofDefaults()) ? "auto, defaults" : config.toString()));
        sb.append(report.table()).append('\n');
        sb.append("GradGuard `auto` against the issue's goals (exploding twins; healthy twins):\n\n");
        report.goals().lines().forEach(l -> sb.append(l).append('\n'));
        sb.append("\nFalse alarms of `auto` on the healthy twins (each trained at its oracle rate), signal by signal:\n\n")
                .append(report.healthyAlarms()).append('\n').append(report.flowWarnings());
        sb.append("\nMedian ratio by architecture (exploding twins):\n\n");
        sb.append(report.byArchitecture(List.of("none", "fixed-norm-1.0", "clip-p90", FamilyReport.AUTO)));
        sb.append("\nBy engine (exploding twins; AGC needs per-parameter updates and runs on DJL only):\n\n");
        sb.append(report.byEngine());
        String losses = report.autoLosses();
        if (!losses.isEmpty()) {
            sb.append("\nWhere GradGuard `auto` failed or ended above 2x (its events; the best anchor on the same set-up):\n\n")
                    .append(losses);
        }
        return sb.toString();
    }
}
