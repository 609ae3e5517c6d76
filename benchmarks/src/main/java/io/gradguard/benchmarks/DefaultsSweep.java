package io.gradguard.benchmarks;

import io.gradguard.core.ConfigSources;
import io.gradguard.core.GuardConfig;
import io.gradguard.models.Scenario;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A sweep of the {@code auto} defaults over the zoo (the defaults themselves are chosen on the generated
 * family's tuning split, by {@code family.FamilySweep}): runs every DJL row of the recovery table under {@code auto}
 * with one configuration change at a time, over the same seeds as the table, and prints per scenario the
 * median ratio to the same-seed reference (with {@code !k} when k seeds diverged), then the worst and the
 * geometric mean of the row. The defaults
 * are the first row; each argument is another ({@code key=value[,key=value]}). Same defaults for every
 * scenario: the table shows whether a change helps the zoo as a whole.
 *
 * <pre>./mvnw -q -B install -DskipTests &amp;&amp; ./mvnw -q -B -pl benchmarks exec:exec -Dbench.main=io.gradguard.benchmarks.DefaultsSweep \
 *     "-Dbench.args=rewarm.target=1.0 recovery.clip=2"</pre>
 */
public final class DefaultsSweep {

    private DefaultsSweep() {}

    /**
     * Entry point.
     *
     * @param rawArgs configuration variants ({@code --seeds=N} sets the seeds, default 5, the recovery table's); the defaults are
     *     always measured first
     */
    public static void main(String[] rawArgs) {
        String[] args = String.join(" ", rawArgs).trim().split("\\s+");
        int seeds = 5;
        List<String> rows = new ArrayList<>();
        rows.add("");
        for (String a : args) {
            if (a.startsWith("--seeds=")) {
                seeds = Integer.parseInt(a.substring(8));
            } else if (!a.isBlank()) {
                rows.add(a);
            }
        }
        List<Scenario> zoo = RecoveryBenchmark.scenarios();
        float[][] refs = new float[zoo.size()][seeds];
        for (int i = 0; i < zoo.size(); i++) {
            for (int k = 0; k < seeds; k++) {
                refs[i][k] = RecoveryBenchmark.reference(zoo.get(i), Integer.MAX_VALUE, Scenario.SEED + k);
            }
        }
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-28s", "config"));
        for (Scenario s : zoo) {
            String n = s.name().replace("deep-mlp-sgd-momentum-", "mom-").replace("deep-mlp-", "mlp-");
            head.append(String.format(Locale.ROOT, " %9s", n.length() > 9 ? n.substring(0, 9) : n));
        }
        System.out.println(head.append("     worst  geomean"));
        for (String row : rows) {
            GuardConfig config = ConfigSources.parse(row);
            RecoveryBenchmark.Policy auto = RecoveryBenchmark.gradGuard(config);
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-28s", row.isEmpty() ? "(defaults)" : row));
            double worst = 0;
            double logSum = 0;
            int finite = 0;
            for (int i = 0; i < zoo.size(); i++) {
                List<RecoveryBenchmark.Cell> cells = new ArrayList<>();
                for (int k = 0; k < seeds; k++) {
                    cells.add(auto.run(zoo.get(i), Integer.MAX_VALUE, refs[i][k], Scenario.SEED + k));
                }
                RecoveryBenchmark.Cell c = RecoveryBenchmark.Cell.median(cells);
                double r = c.diverged() ? Double.POSITIVE_INFINITY : c.ratio();
                // the median, and how many seeds diverged (!k)
                String cell = (Double.isInfinite(r) ? "x" : String.format(Locale.ROOT, "%.2f", r))
                        + (c.divergedSeeds() > 0 ? "!" + c.divergedSeeds() : "");
                sb.append(String.format(Locale.ROOT, " %9s", cell));
                if (Double.isFinite(r)) {
                    worst = Math.max(worst, r);
                    logSum += Math.log(r);
                    finite++;
                }
            }
            sb.append(String.format(Locale.ROOT, "  %8.2f %8.3f", worst, Math.exp(logSum / Math.max(1, finite))));
            System.out.println(sb);
        }
    }
}
