package io.gradguard.benchmarks.family;

import io.gradguard.core.event.EventKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The family's numbers: per policy, over the set-ups whose oracle learned something, the median ratio of the
 * exploding twin's final loss to the oracle's, the share within 1.5x, the share where the policy is best or
 * tied, failures (NaN, halted, collapsed), and what it did to the healthy twins. Then the goals for
 * GradGuard {@code auto}, each measured row by row.
 */
public final class FamilyReport {

    /** Two ratios within this relative distance are a tie. */
    public static final double TIE = 0.05;
    /** The policy the goals are about. */
    public static final String AUTO = "gradguard-auto";

    private final List<FamilyRow> rows;
    private final List<String> policies;
    /** per set-up (seed + engine), per policy: the exploding twin's row */
    private final Map<String, Map<String, FamilyRow>> exploding = new TreeMap<>();
    private final Map<String, Map<String, FamilyRow>> healthy = new TreeMap<>();
    private final int unlearnable;

    /**
     * @param rows the rows of one split
     */
    public FamilyReport(List<FamilyRow> rows) {
        this.rows = rows;
        this.policies = rows.stream().map(FamilyRow::policy).distinct().toList();
        int skipped = 0;
        Map<String, Boolean> seen = new LinkedHashMap<>();
        for (FamilyRow r : rows) {
            String key = r.engine() + ":" + r.seed();
            seen.putIfAbsent(key, r.learnable());
            if (!r.learnable()) {
                continue;
            }
            (r.twin().equals("exploding") ? exploding : healthy).computeIfAbsent(key, k -> new LinkedHashMap<>())
                    .put(r.policy(), r);
        }
        for (boolean b : seen.values()) {
            skipped += b ? 0 : 1;
        }
        this.unlearnable = skipped;
    }

    /** @return the exploding set-ups that count */
    public int setups() {
        return exploding.size();
    }

    /** Per-policy numbers over the exploding twins and the healthy twins. */
    public record PolicyStats(String policy, int n, double median, double within15, double bestOrTied, int nan, int halted,
            int collapsed, int healthyN, int healthyIntervened, double healthyWorst, int healthyOff) {}

    /**
     * @param policy a policy key
     * @return its numbers
     */
    public PolicyStats stats(String policy) {
        List<Double> ratios = new ArrayList<>();
        int within = 0;
        int best = 0;
        int nan = 0;
        int halted = 0;
        int collapsed = 0;
        for (Map<String, FamilyRow> row : exploding.values()) {
            FamilyRow r = row.get(policy);
            if (r == null) {
                continue;
            }
            double ratio = r.ratio();
            ratios.add(ratio);
            within += ratio <= 1.5 ? 1 : 0;
            best += tiedOrBetter(ratio, bestOf(row, p -> true)) ? 1 : 0;
            switch (r.result()) {
                case "nan", "error" -> nan++;
                case "halted" -> halted++;
                case "collapsed" -> collapsed++;
                default -> { }
            }
        }
        int hn = 0;
        int hi = 0;
        int off = 0;
        double worst = 0;
        for (Map<String, FamilyRow> row : healthy.values()) {
            FamilyRow r = row.get(policy);
            FamilyRow none = row.get("none");
            if (r == null) {
                continue;
            }
            hn++;
            hi += r.interventions() > 0 ? 1 : 0;
            double q = r.failed() ? Double.POSITIVE_INFINITY : r.loss() / r.oracleLoss();
            worst = Math.max(worst, q);
            off += none != null && Math.abs(q - 1) > 0.005 ? 1 : 0;
        }
        int n = ratios.size();
        return new PolicyStats(policy, n, median(ratios), n == 0 ? 0 : (double) within / n, n == 0 ? 0 : (double) best / n,
                nan, halted, collapsed, hn, hi, worst, off);
    }

    /**
     * @param a one ratio (+Infinity: failed)
     * @param b another
     * @return true when {@code a} is at most {@link #TIE} above {@code b} (two failures tie)
     */
    static boolean tiedOrBetter(double a, double b) {
        if (Double.isInfinite(a)) {
            return Double.isInfinite(b);
        }
        return a <= b * (1 + TIE);
    }

    private double bestOf(Map<String, FamilyRow> row, java.util.function.Predicate<String> which) {
        return row.values().stream().filter(r -> which.test(r.policy())).mapToDouble(FamilyRow::ratio).min()
                .orElse(Double.POSITIVE_INFINITY);
    }

    /**
     * @param values the values
     * @return their median; NaN when there are none
     */
    public static double median(List<Double> values) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> s = new ArrayList<>(values);
        s.sort(Comparator.naturalOrder());
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /**
     * The goals of the issue for {@code auto}, measured.
     *
     * @param median median ratio to the oracle, exploding twins
     * @param within15 share of exploding twins within 1.5x
     * @param vsBestAnchor share of set-ups (with anchors) where {@code auto} is better than or tied with the best anchor
     * @param haltsWhereAnchorWithin2x halts where an anchor ended within 2x
     * @param failuresWhereAnchorWithin2x every failure (NaN, halt, collapse) where an anchor ended within 2x: a run that
     *     settles instead of halting and then collapses is no rescue, and this says so beside the goal's count
     * @param healthyUntouched share of healthy twins with no intervention
     * @param healthyOffMoreThanHalfPercent healthy twins more than 0.5% off the unguarded run
     * @param healthyN healthy twins
     */
    public record Goals(double median, double within15, double vsBestAnchor, int haltsWhereAnchorWithin2x,
            int failuresWhereAnchorWithin2x, double healthyUntouched, int healthyOffMoreThanHalfPercent, int healthyN) {

        /** @return one line per goal, with the target and whether it is met */
        public List<String> lines() {
            return List.of(
                    line("median ratio to the oracle", fmt(median) + "x", "<= 1.3x", median <= 1.3),
                    line("exploding set-ups within 1.5x", pct(within15), ">= 90%", within15 >= 0.9),
                    line("better than or tied with the best anchor, row by row", pct(vsBestAnchor), ">= 80%", vsBestAnchor >= 0.8),
                    line("halts where an anchor finishes within 2x", Integer.toString(haltsWhereAnchorWithin2x), "0",
                            haltsWhereAnchorWithin2x == 0) + "; failures of any kind (NaN, halt, collapse) there: "
                            + failuresWhereAnchorWithin2x,
                    line("healthy twins with no intervention", pct(healthyUntouched), ">= 98%", healthyUntouched >= 0.98),
                    line("healthy twins more than 0.5% off the unguarded run", healthyOffMoreThanHalfPercent + " of " + healthyN,
                            "0", healthyOffMoreThanHalfPercent == 0));
        }

        private static String line(String what, String measured, String target, boolean met) {
            return "- " + what + ": **" + measured + "** (goal " + target + ") " + (met ? "met" : "not met");
        }
    }

    /** @return the goals for {@code auto} */
    public Goals goals() {
        PolicyStats a = stats(AUTO);
        int vs = 0;
        int n = 0;
        int badHalts = 0;
        int badFailures = 0;
        for (Map<String, FamilyRow> row : exploding.values()) {
            FamilyRow auto = row.get(AUTO);
            if (auto == null) {
                continue;
            }
            boolean anchored = row.keySet().stream().anyMatch(p -> !p.equals(AUTO) && !p.equals("none"));
            if (!anchored) {
                // a set-up run for GradGuard alone (the extended tuning set's later seeds) has nothing to compare with
                continue;
            }
            n++;
            double bestAnchor = bestOf(row, p -> !p.equals(AUTO) && !p.equals("none"));
            vs += tiedOrBetter(auto.ratio(), bestAnchor) ? 1 : 0;
            if (auto.result().equals("halted") && bestAnchor <= 2.0) {
                badHalts++;
            }
            if (auto.failed() && bestAnchor <= 2.0) {
                badFailures++;
            }
        }
        return new Goals(a.median(), a.within15(), n == 0 ? 0 : (double) vs / n, badHalts, badFailures,
                a.healthyN() == 0 ? 0 : 1.0 - (double) a.healthyIntervened() / a.healthyN(), a.healthyOff(), a.healthyN());
    }

    /** @return the table, one line per policy, as Markdown */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append("| policy | median ratio to oracle | within 1.5x | best or tied | NaN | halted | collapsed |"
                + " healthy twins changed | healthy twins > 0.5% off | worst healthy ratio |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (String p : policies) {
            PolicyStats s = stats(p);
            sb.append(String.format(Locale.ROOT, "| `%s` | %s | %s | %s | %d | %d | %d | %s | %s | %s |%n", p,
                    Double.isInfinite(s.median()) ? "failed" : fmt(s.median()) + "x", pct(s.within15()), pct(s.bestOrTied()),
                    s.nan(), s.halted(), s.collapsed(),
                    p.equals("none") ? "—" : s.healthyIntervened() + " of " + s.healthyN(),
                    p.equals("none") ? "—" : s.healthyOff() + " of " + s.healthyN(),
                    p.equals("none") ? "1 (it is the oracle)" : Double.isInfinite(s.healthyWorst()) ? "failed" : fmt(s.healthyWorst()) + "x"));
        }
        return sb.toString();
    }

    /** @return how many set-ups were left out because their oracle learned nothing */
    public int unlearnable() {
        return unlearnable;
    }

    /**
     * Per architecture: the median ratio of each policy, for the exploding twins.
     *
     * @param shown the policies to show
     * @return a Markdown table
     */
    public String byArchitecture(List<String> shown) {
        Map<String, List<Map<String, FamilyRow>>> byArch = exploding.values().stream()
                .collect(Collectors.groupingBy(r -> any(r).engine().equals("tf")
                        ? "tf-" + any(r).optimizer().toLowerCase(Locale.ROOT)
                        : any(r).arch().toLowerCase(Locale.ROOT), TreeMap::new, Collectors.toList()));
        StringBuilder sb = new StringBuilder("| architecture | set-ups |");
        shown.forEach(p -> sb.append(" `").append(p).append("` |"));
        sb.append("\n|---|---|").append("---|".repeat(shown.size())).append('\n');
        byArch.forEach((arch, list) -> {
            sb.append("| ").append(arch).append(" | ").append(list.size()).append(" |");
            for (String p : shown) {
                List<Double> r = list.stream().filter(m -> m.containsKey(p)).map(m -> m.get(p).ratio()).toList();
                double med = median(r);
                long failed = r.stream().filter(v -> v.isInfinite()).count();
                sb.append(' ').append(Double.isInfinite(med) ? "failed" : fmt(med) + "x")
                        .append(failed > 0 ? " (" + failed + "✗)" : "").append(" |");
            }
            sb.append('\n');
        });
        return sb.toString();
    }

    /**
     * Per engine: each policy's median ratio, share within 1.5x and failures over that engine's exploding twins
     * (AGC runs on DJL only, so its line over all set-ups is a DJL line).
     *
     * @return a Markdown table
     */
    public String byEngine() {
        List<String> engines = exploding.values().stream().map(r -> any(r).engine()).distinct().sorted().toList();
        StringBuilder sb = new StringBuilder("| policy |");
        for (String e : engines) {
            long n = exploding.values().stream().filter(r -> any(r).engine().equals(e)).count();
            sb.append(' ').append(e).append(" (").append(n).append(") median | within 1.5x | failed |");
        }
        sb.append("\n|---|").append("---|---|---|".repeat(engines.size())).append('\n');
        for (String p : policies) {
            sb.append("| `").append(p).append("` |");
            for (String e : engines) {
                List<Double> r = exploding.values().stream().filter(m -> m.containsKey(p))
                        .map(m -> m.get(p)).filter(x -> x.engine().equals(e)).map(FamilyRow::ratio).toList();
                if (r.isEmpty()) {
                    sb.append(" — | — | — |");
                    continue;
                }
                double med = median(r);
                long within = r.stream().filter(v -> v <= 1.5).count();
                long failed = r.stream().filter(v -> v.isInfinite()).count();
                sb.append(' ').append(Double.isInfinite(med) ? "failed" : fmt(med) + "x").append(" | ")
                        .append(pct((double) within / r.size())).append(" | ").append(failed).append(" |");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /**
     * The set-ups where GradGuard failed or ended above 2x, with the best anchor on each.
     *
     * @return a Markdown list, empty when there are none
     */
    public String autoLosses() {
        StringBuilder sb = new StringBuilder();
        for (Map<String, FamilyRow> row : exploding.values()) {
            FamilyRow a = row.get(AUTO);
            if (a == null || a.ratio() <= 2.0) {
                continue;
            }
            FamilyRow best = row.values().stream().filter(r -> !r.policy().equals(AUTO) && !r.policy().equals("none"))
                    .min(Comparator.comparingDouble(FamilyRow::ratio)).orElse(null);
            sb.append(String.format(Locale.ROOT, "- `%s` x%.1f: %s%s; best anchor %s%n", a.setup(), a.multiplier(),
                    a.failed() ? a.result() : fmt(a.ratio()) + "x", a.events().isEmpty() ? "" : " (" + a.events() + ")",
                    best == null ? "none" : "`" + best.policy() + "` " + (best.failed() ? best.result() : fmt(best.ratio()) + "x")));
        }
        return sb.toString();
    }

    /**
     * GradGuard's false alarms on the healthy twins, signal by signal: in how many healthy twins each kind of
     * event fired ({@code rise} covers both loss rules: above the first loss, and climbed back from the best).
     *
     * @return a Markdown table, one column per signal
     */
    public String healthyAlarms() {
        List<EventKind> kinds = Arrays.stream(EventKind.values())
                .filter(k -> k != EventKind.SNAPSHOT && k != EventKind.WARNING)
                .toList();
        int n = 0;
        Map<String, Integer> fired = new LinkedHashMap<>();
        for (Map<String, FamilyRow> row : healthy.values()) {
            FamilyRow a = row.get(AUTO);
            if (a == null) {
                continue;
            }
            n++;
            for (String kv : a.events().split(";")) {
                if (!kv.isEmpty()) {
                    fired.merge(kv.split(":")[0], 1, Integer::sum);
                }
            }
        }
        StringBuilder sb = new StringBuilder("| signal |");
        kinds.forEach(k -> sb.append(" `").append(k.key()).append("` |"));
        sb.append("\n|---|").append("---|".repeat(kinds.size())).append("\n| healthy twins where it fired |");
        for (EventKind k : kinds) {
            sb.append(' ').append(fired.getOrDefault(k.key(), 0)).append(" of ").append(n).append(" |");
        }
        return sb.append('\n').toString();
    }

    /**
     * @return one sentence: on how many twins of each engine, healthy and exploding, {@code auto} gave the first-step
     *     gradient-flow warning
     */
    public String flowWarnings() {
        StringBuilder sb = new StringBuilder("First-step gradient-flow warning of `auto` (a warning only, nothing is"
                + " changed):");
        String sep = " ";
        for (String engine : List.of("djl", "tf")) {
            int[] h = count(healthy, engine);
            int[] e = count(exploding, engine);
            if (h[1] + e[1] == 0) {
                continue;
            }
            sb.append(sep).append(String.format(Locale.ROOT, "%s on %d of %d healthy twins and on %d of %d exploding twins",
                    engine.equals("djl") ? "DJL" : "TensorFlow", h[0], h[1], e[0], e[1]));
            sep = "; ";
        }
        return sb.append(" (their first update at 2x-100x the oracle rate).").append(System.lineSeparator()).toString();
    }

    private static int[] count(Map<String, Map<String, FamilyRow>> twins, String engine) {
        int warned = 0;
        int n = 0;
        for (Map<String, FamilyRow> row : twins.values()) {
            FamilyRow a = row.get(AUTO);
            if (a == null || !a.engine().equals(engine)) {
                continue;
            }
            n++;
            warned += a.events().contains(EventTally.FLOW_WARNING) ? 1 : 0;
        }
        return new int[] {warned, n};
    }

    /** Any row of one set-up's policies: they share the set-up's fields (engine, architecture, optimizer). */
    private static FamilyRow any(Map<String, FamilyRow> setup) {
        return setup.values().iterator().next();
    }

    /** @return the exploding twins' rows, per set-up and policy */
    public Map<String, Map<String, FamilyRow>> exploding() {
        return exploding;
    }

    /** @return all rows */
    public List<FamilyRow> rows() {
        return rows;
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
    }

    static String pct(double v) {
        return String.format(Locale.ROOT, "%.0f%%", 100 * v);
    }
}
