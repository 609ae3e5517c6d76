package io.gradguard.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.models.BadInitScenario;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A smoke run of the doctor benchmark on the real engine: the bad-init row (unfixed it ends NaN; the doctor's pick
 * within 1.5x of the He-initialized reference, the goal) and the table's shape; one family healthy twin read
 * from {@code family-held-out.csv}; a change trained both ways for the planned steps (followed, and the model as it is).
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

    /** @return the tuning split's structural case (of the 7 per kind) whose set-up id starts with {@code prefix} */
    private static Object[] tuningCase(String prefix) {
        return StructuralCases.draw(io.gradguard.models.family.FamilyGenerator.Split.TUNING, 7).stream()
                .filter(x -> ((io.gradguard.models.family.Setup) x[1]).id().startsWith(prefix)).findFirst().orElseThrow();
    }

    @Test
    void aStuckDeepReluNetGetsHeInitializationAndTrainsBetter() {
        // the tuning split's structural case s1019: a 12-layer ReLU MLP (width 8) with LeCun initialization, plain SGD at
        // its nominal rate; as it is it does not learn in the doctor's trial (its signal shrinks with depth), and the
        // short trials alone cannot show by how much He initialization wins. Unfixed, the He-initialized fix and the
        // doctor's prescription are each trained for the planned steps in this test
        Object[] c = tuningCase("s1019-");
        StructuralCases.Row r = StructuralCases.run((String) c[0], (io.gradguard.models.family.Setup) c[1],
                (io.gradguard.models.family.Setup) c[2]);
        assertThat(r.kind()).isEqualTo("bad-init");
        assertThat(r.prescription()).isEqualTo("he-init");
        assertThat(r.lines()).last().asString().startsWith("why: the model as it is did not learn in its trial");
        assertThat(r.doctor()).as("the prescription followed against the model as it is").isLessThan(r.unfixed() * 0.67f);
        assertThat(r.within()).as("within 1.5x of the He-initialized fix: %s", r).isTrue();
    }

    @Test
    void aVanillaRnnOnLongSumsGetsAGruWithTheCellSwapRuleOn() {
        // the tuning split's structural case s1003: a tanh RNN (32 units) on sums of 16 steps, AdamW at its nominal rate;
        // the flow check finds nothing out of range, so the doctor's defaults leave it, and the cell-swap rule (off by
        // default) prescribes the GRU. Unfixed, the GRU fix and both prescriptions are trained for the planned steps here
        Object[] c = tuningCase("s1003-");
        io.gradguard.models.family.Setup unfixed = (io.gradguard.models.family.Setup) c[1];
        io.gradguard.models.family.Setup fixed = (io.gradguard.models.family.Setup) c[2];
        StructuralCases.Row byDefault = StructuralCases.run((String) c[0], unfixed, fixed);
        assertThat(byDefault.prescription()).isEqualTo("no change");
        StructuralCases.Row r = StructuralCases.run((String) c[0], unfixed, fixed, b -> b.cellSwap(true));
        assertThat(r.kind()).isEqualTo("vanilla-rnn");
        assertThat(r.prescription()).isEqualTo("rnn-to-gru");
        assertThat(r.lines()).last().asString().startsWith("why: a vanilla recurrent cell cannot learn");
        assertThat(r.doctor()).as("the prescription followed against the model as it is").isLessThan(r.unfixed() * 0.67f);
        assertThat(r.within()).as("within 1.5x of the GRU fix: %s", r).isTrue();
    }

    @Test
    void badInitRowAndOneHealthyTwin() throws Exception {
        DoctorBenchmark.ZooRow r = DoctorBenchmark.zooRow(new BadInitScenario());
        assertThat(r.unfixed()).as("unfixed").isNaN();
        assertThat(r.doctor() / r.reference()).as("doctor vs reference, prescription %s", r.prescription()).isLessThan(1.5f);
        assertThat(r.trialSteps()).isLessThanOrEqualTo(r.plannedSteps() / 10);
        Map<Long, Float> twins = DoctorBenchmark.familyHealthyTwins(Path.of("family-held-out.csv"), 1);
        assertThat(twins).hasSize(1);
        String md = DoctorBenchmark.markdown(java.util.List.of(r), Map.of("twin", "no change"), Map.of(), "held-out");
        assertThat(md).contains("| `deep-mlp-bad-init` | NaN |").contains("**1 of 1**").doesNotContain("both ways");
        // following a change is trained both ways for the planned steps: on the bad-init model the prescription trains,
        // the model as it is diverges
        BadInitScenario bad = new BadInitScenario();
        io.gradguard.djl.doctor.DoctorResult d;
        try (io.gradguard.models.ScenarioRun run = bad.open(io.gradguard.models.Variant.EXPLODING)) {
            d = DoctorBenchmark.consult(bad.name(), DoctorBenchmark.blocks(bad, io.gradguard.models.Variant.EXPLODING),
                    DoctorBenchmark.configs(bad, io.gradguard.models.Variant.EXPLODING),
                    bad.learningRate(io.gradguard.models.Variant.EXPLODING), run, bad.steps());
        }
        float[] both = DoctorBenchmark.followedAndAsIs(d, () -> bad.open(io.gradguard.models.Variant.EXPLODING),
                v -> bad.open(io.gradguard.models.Variant.EXPLODING, v));
        assertThat(both[1]).as("as it is").isNaN();
        assertThat(both[0]).as("followed").isCloseTo(r.doctor(), org.assertj.core.data.Percentage.withPercentage(0.001));
        // a changed healthy model reports its prescription followed for the whole run beside the model as it is
        Map<String, String> changed = new java.util.LinkedHashMap<>();
        changed.put("a", "no change");
        changed.put("b", "lsuv (flow: gradients_shrink; as it is 1.8, chosen 1.1)");
        changed.put("c", "lr (flow: update_too_large; as it is 0.2, chosen 0.1)");
        Map<String, float[]> followed = new java.util.LinkedHashMap<>();
        followed.put("b", new float[] {0.5f, 1.0f});
        followed.put("c", new float[] {Float.NaN, 1.0f});
        String md2 = DoctorBenchmark.markdown(java.util.List.of(r), changed, followed, "held-out");
        assertThat(md2).contains("**1 of 3**")
                .contains("- `b`: lsuv (flow: gradients_shrink; as it is 1.8, chosen 1.1); full run: prescription followed"
                        + " 0.5000, as it is 1.000 (0.50x)")
                .contains("(NaN)")
                .contains("more than 5% better than the model as it is on 1 of 2, more than 5% worse (or diverged) on 1.");
    }
}
