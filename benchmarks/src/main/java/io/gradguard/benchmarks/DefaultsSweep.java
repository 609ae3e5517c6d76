package io.gradguard.benchmarks;

import ai.djl.training.Trainer;
import io.gradguard.core.ConfigSources;
import io.gradguard.core.GuardConfig;
import io.gradguard.djl.DjlGuard;
import io.gradguard.models.AdamOvershootScenario;
import io.gradguard.models.CorruptedBatchScenario;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.RnnAdditionScenario;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.util.List;
import java.util.Locale;

/**
 * How the rollback defaults were chosen: runs every exploding scenario of the zoo under the {@code auto}
 * policy with one configuration change at a time and prints, per scenario, the final loss as a ratio to
 * the scenario's documented reference, the rollbacks taken, and the worst ratio of the row. The defaults
 * are one row; each argument is another ({@code key=value[,key=value]}).
 *
 * <pre>./mvnw -q -B install -DskipTests &amp;&amp; ./mvnw -q -B -pl benchmarks exec:exec -Dbench.main=io.gradguard.benchmarks.DefaultsSweep \
 *     "-Dbench.args=snapshot.every=10 snapshot.every=25 snapshot.every=100 rollback.skip=10 rollback.skip=50"</pre>
 */
public final class DefaultsSweep {

    private DefaultsSweep() {}

    /**
     * Entry point.
     *
     * @param args configuration variants; the defaults are always measured first
     */
    public static void main(String[] args) {
        List<Scenario> zoo = List.of(new DeepMlpScenario(), new DeepMlpScenario(0.01f, 10f), new DeepMlpScenario(0.01f, 50f),
                new CorruptedBatchScenario(), new RnnAdditionScenario(), new AdamOvershootScenario());
        List<String> rows = new java.util.ArrayList<>();
        rows.add("");
        for (String a : args) {
            rows.addAll(List.of(a.trim().split("\\s+")));
        }
        for (String row : rows) {
            GuardConfig config = ConfigSources.parse(row);
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-22s", row.isEmpty() ? "(defaults)" : row));
            double worst = 0;
            for (Scenario s : zoo) {
                try (ScenarioRun run = s.open(Variant.EXPLODING); Trainer t = run.newTrainer(); DjlGuard g = new DjlGuard(config)) {
                    String cell;
                    try {
                        run.trainByHand(t, g::step);
                        double ratio = run.evalLoss(t) / s.documentedReferenceLoss();
                        worst = Math.max(worst, Double.isFinite(ratio) ? ratio : Double.POSITIVE_INFINITY);
                        cell = String.format(Locale.ROOT, "%.2fx", ratio);
                    } catch (RuntimeException e) {
                        worst = Double.POSITIVE_INFINITY;
                        cell = "halted";
                    }
                    sb.append(String.format(Locale.ROOT, "  %s %s/%d rb", s.name().replace("deep-mlp-sgd-momentum-", "mlp-"),
                            cell, g.summary().rollbacks()));
                }
            }
            sb.append(String.format(Locale.ROOT, "  | worst %.2fx", worst));
            System.out.println(sb);
        }
    }
}
