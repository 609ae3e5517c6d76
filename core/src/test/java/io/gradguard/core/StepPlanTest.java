package io.gradguard.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Guard#plan} must predict {@link Guard#decide} exactly: an in-graph adapter acts on the plan
 * before the numbers reach Java, and the two must never disagree.
 */
class StepPlanTest {

    private static final RunInfo RUN = new RunInfo("test", "cpu()", "unit",
            List.of(new RunInfo.Parameter("a", 10), new RunInfo.Parameter("b", 10)), Map.of());

    @ParameterizedTest
    @ValueSource(strings = {"auto", "clip", "monitor", "off", "auto-fixed", "auto-skip2", "auto-every5", "auto-cap10", "auto-cap50-every5"})
    void planPredictsEveryActionOfDecide(String variant) {
        GuardConfig.Builder b = GuardConfig.custom();
        switch (variant) {
            case "clip" -> b.policy(Policy.CLIP);
            case "monitor" -> b.policy(Policy.MONITOR);
            case "off" -> b.policy(Policy.OFF);
            case "auto-fixed" -> b.clipNorm(2.0);
            case "auto-skip2" -> b.rollbackSkip(2);
            case "auto-every5" -> b.snapshotEvery(5).rollbackMax(1000).lrFloor(1e-300);
            case "auto-cap10" -> b.recoveryPercentile(10);
            case "auto-cap50-every5" -> b.recoveryPercentile(50).snapshotEvery(5).rollbackMax(1000).lrFloor(1e-300);
            default -> { }
        }
        GuardConfig config = b.build();
        Map<Action, Integer> seen = new EnumMap<>(Action.class);
        int snapshots = 0;
        int cappedSnapshots = 0;
        for (int seed = 0; seed < 20; seed++) {
            Random r = new Random(seed);
            try (Guard g = new Guard(config)) {
                g.begin(RUN);
                double level = 1.0;
                for (long step = 0; step < 400; step++) {
                    StepPlan plan = g.plan(step);
                    double norm = level * Math.exp(0.2 * r.nextGaussian());
                    double loss = 0.5 * Math.exp(0.1 * r.nextGaussian());
                    int kind = r.nextInt(seed % 2 == 0 ? 40 : 14);
                    if (kind == 0) {
                        norm = Double.NaN;
                    } else if (kind == 1) {
                        loss = Double.POSITIVE_INFINITY;
                    } else if (kind == 2) {
                        norm *= 1000;
                        loss *= 1000;
                    } else if (kind == 3) {
                        norm *= 8;
                    } else if (kind == 4) {
                        loss *= 30;
                    } else if (kind == 5) {
                        level *= 1.5; // a run that starts growing
                    } else if (kind == 6) {
                        level = 1.0;
                    }
                    double a = norm / Math.sqrt(2);
                    StepStats s = new StepStats(step, loss, true, norm, new double[] {a, a});
                    StepPlan.Outcome predicted = plan.predict(norm, loss);
                    Decision d = g.decide(s, null);
                    seen.merge(d.action(), 1, Integer::sum);
                    if (d.action() == Action.ABORT) {
                        break;
                    }
                    if (d.action() == Action.ROLLBACK) {
                        continue;
                    }
                    assertThat(predicted.action()).as("%s seed %d step %d norm %s loss %s", variant, seed, step, norm, loss)
                            .isEqualTo(d.action());
                    assertThat(predicted.clipCoef()).as("coef at step %d", step)
                            .isEqualTo(d.action() == Action.SKIP ? 0.0 : d.clipCoef());
                    assertThat(predicted.snapshot()).as("snapshot at step %d", step).isEqualTo(d.snapshot());
                    snapshots += d.snapshot() ? 1 : 0;
                    cappedSnapshots += d.snapshot() && d.action() == Action.CLIP ? 1 : 0;
                }
            }
        }
        // the stream must reach the rungs the policy has, or the test proves little
        assertThat(seen).containsKey(Action.STEP);
        if (config.policy().acts()) {
            assertThat(seen).containsKeys(Action.CLIP, Action.SKIP);
        }
        if (config.policy() == Policy.AUTO) {
            assertThat(seen).containsKey(Action.ROLLBACK);
            assertThat(snapshots).isGreaterThan(20);
        }
        if (config.recoveryPercentile() > 0) {
            // the cap after a rollback: a capped step can still be the next snapshot, and the plan said so
            assertThat(cappedSnapshots).isPositive();
        }
    }
}
