package io.gradguard.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.models.BadInitScenario;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A smoke run of the doctor benchmark on the real engine: the bad-init row (unfixed it ends NaN; the doctor's pick
 * within 1.5x of the He-initialized reference, the goal) and the table's shape; one family healthy twin read
 * from {@code family-held-out.csv}.
 */
class DoctorBenchmarkSmokeTest {

    @Test
    void structuralCasesPairEachFaultWithItsFix() {
        java.util.List<Object[]> cases = StructuralCases.draw(io.gradguard.models.family.FamilyGenerator.Split.HELD_OUT, 2);
        assertThat(cases).hasSize(6);
        for (Object[] c : cases) {
            io.gradguard.models.family.Setup bad = (io.gradguard.models.family.Setup) c[1];
            io.gradguard.models.family.Setup fix = (io.gradguard.models.family.Setup) c[2];
            assertThat(bad.seed()).isGreaterThanOrEqualTo(9000);
            switch ((String) c[0]) {
                case "bad-init" -> assertThat(bad.init()).isEqualTo(io.gradguard.models.family.Setup.Init.LECUN)
                        .isNotEqualTo(fix.init());
                case "no-norm" -> assertThat(bad.normalized()).isFalse().isNotEqualTo(fix.normalized());
                case "vanilla-rnn" -> assertThat(bad.arch()).isEqualTo(io.gradguard.models.family.Setup.Arch.RNN)
                        .isNotEqualTo(fix.arch());
                default -> throw new AssertionError(c[0]);
            }
            assertThat(bad.steps()).isEqualTo(fix.steps());
        }
    }

    @Test
    void badInitRowAndOneHealthyTwin() throws Exception {
        DoctorBenchmark.ZooRow r = DoctorBenchmark.zooRow(new BadInitScenario());
        assertThat(r.unfixed()).as("unfixed").isNaN();
        assertThat(r.doctor() / r.reference()).as("doctor vs reference, prescription %s", r.prescription()).isLessThan(1.5f);
        assertThat(r.trialSteps()).isLessThanOrEqualTo(r.plannedSteps() / 10);
        Map<Long, Float> twins = DoctorBenchmark.familyHealthyTwins(Path.of("family-held-out.csv"), 1);
        assertThat(twins).hasSize(1);
        String md = DoctorBenchmark.markdown(java.util.List.of(r), Map.of("twin", "no change"), "held-out");
        assertThat(md).contains("| `deep-mlp-bad-init` | NaN |").contains("**1 of 1**");
    }
}
