package io.gradguard.benchmarks.family;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.GuardConfig;
import io.gradguard.models.family.FamilyGenerator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The family harness on its smoke set (three short DJL set-ups of different architectures and one TensorFlow
 * set-up, tuning split), every policy on both twins, on the real engines: the rows are complete, the report
 * renders, and the healthy twins GradGuard did not touch end bit-identical to the unguarded oracle run.
 */
class FamilySmokeTest {

    @Test
    void everyPolicyRunsOnBothTwinsAndUntouchedHealthyTwinsAreBitIdentical() {
        List<String> items = FamilyBenchmark.smokeItems(FamilyGenerator.Split.TUNING);
        assertThat(items).hasSize(4).anyMatch(i -> i.startsWith("tf:"));
        List<FamilyPolicy> policies = FamilyBenchmark.policies(null, GuardConfig.ofDefaults());
        List<FamilyRow> rows = FamilyBenchmark.runHere(items, policies,
                List.of(FamilyRunner.Twin.EXPLODING, FamilyRunner.Twin.HEALTHY), null, GuardConfig.ofDefaults());
        // DJL: 9 policies x 2 twins x 3 set-ups; TensorFlow: 8 (no AGC) x 2
        assertThat(rows).hasSize(9 * 2 * 3 + 8 * 2);
        assertThat(rows).noneMatch(r -> r.result().equals("error"));
        List<FamilyRow> untouched = rows.stream()
                .filter(r -> r.twin().equals("healthy") && r.policy().equals(FamilyReport.AUTO) && r.interventions() == 0)
                .toList();
        assertThat(untouched).as("GradGuard leaves most healthy twins alone").hasSizeGreaterThanOrEqualTo(3);
        for (FamilyRow r : untouched) {
            assertThat((float) r.loss()).as("%s healthy twin under the guard", r.setup()).isEqualTo((float) r.oracleLoss());
        }
        FamilyReport report = new FamilyReport(rows);
        String table = report.table();
        for (FamilyPolicy p : policies) {
            assertThat(table).contains("| `" + p.key() + "` |");
        }
        assertThat(report.goals().lines()).hasSize(6);
        assertThat(report.healthyAlarms()).contains("| healthy twins where it fired |").contains("`rise`", "`collapse`", "`lr_cut`");
        assertThat(FamilyChart.svg(report, "tuning")).startsWith("<svg").contains("GradGuard auto").endsWith("</svg>\n");
        // the CSV keeps 6 significant digits: a parsed row writes the same line back
        for (FamilyRow r : rows) {
            assertThat(FamilyRow.parse(r.csv()).csv()).isEqualTo(r.csv());
        }
    }
}
