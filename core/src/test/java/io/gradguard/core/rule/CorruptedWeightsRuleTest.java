package io.gradguard.core.rule;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.Action;
import io.gradguard.core.Decision;
import io.gradguard.core.Guard;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.RunInfo;
import io.gradguard.core.StepStats;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Parameters corrupted from outside (the {@code corrupted_weights} rule), on synthetic streams: a non-finite step
 * whose weights are non-finite right after a healthy update rolls back at once without cutting the learning rate;
 * a non-finite batch with finite weights is only skipped; a second corruption before healthy progress cuts as
 * usual; healthy streams never trigger it.
 */
class CorruptedWeightsRuleTest {

    private static final RunInfo RUN = new RunInfo("test", "cpu()", "unit",
            List.of(new RunInfo.Parameter("w0", 100), new RunInfo.Parameter("w1", 10)), Map.of());
    private static final double[] FINE = {3.0, 1.0};
    private static final double[] BROKEN = {Double.NaN, 1.0};

    private static Guard guard() {
        Guard g = new Guard(GuardConfig.custom().snapshotEvery(10).build());
        g.begin(RUN);
        return g;
    }

    private static Decision healthy(Guard g, long step, Random rng) {
        double n = Math.exp(0.2 * rng.nextGaussian());
        return g.decide(StepStats.of(step, 1.0 / (1 + 0.01 * step), true, new double[] {n, n / 2}), () -> FINE);
    }

    private static Decision nonFinite(Guard g, long step, double[] weights) {
        return g.decide(StepStats.of(step, Double.NaN, true, new double[] {Double.NaN, 1.0}), () -> weights);
    }

    @Test
    void corruptedWeightsRollBackAtOnceWithoutACut() {
        Guard g = guard();
        Random rng = new Random(3);
        for (int s = 0; s < 100; s++) {
            assertThat(healthy(g, s, rng).action()).isEqualTo(Action.STEP);
        }
        Decision d = nonFinite(g, 100, BROKEN);
        assertThat(d.action()).isEqualTo(Action.ROLLBACK);
        assertThat(g.lrScale()).isEqualTo(1.0);
        assertThat(g.schedule().ceiling()).isInfinite();
        assertThat(d.reason()).contains("corrupted from outside").contains("kept at 1.000");
    }

    @Test
    void aNonFiniteBatchWithFiniteWeightsIsOnlySkipped() {
        Guard g = guard();
        Random rng = new Random(4);
        for (int s = 0; s < 100; s++) {
            healthy(g, s, rng);
        }
        assertThat(nonFinite(g, 100, FINE).action()).isEqualTo(Action.SKIP);
        assertThat(healthy(g, 101, rng).action()).isEqualTo(Action.STEP);
        assertThat(g.summary().rollbacks()).isZero();
    }

    @Test
    void aSecondCorruptionBeforeProgressCuts() {
        Guard g = guard();
        Random rng = new Random(5);
        for (int s = 0; s < 100; s++) {
            healthy(g, s, rng);
        }
        assertThat(nonFinite(g, 100, BROKEN).action()).isEqualTo(Action.ROLLBACK);
        assertThat(g.lrScale()).isEqualTo(1.0);
        // restored, then corrupted again on the very next step: the rate is no longer presumed innocent
        Decision again = nonFinite(g, 101, BROKEN);
        assertThat(again.action()).isEqualTo(Action.ROLLBACK);
        assertThat(g.lrScale()).isLessThan(1.0);
    }

    @Test
    void healthyRunsAndUnmeasuredWeightsNeverTriggerIt() {
        for (int seed = 0; seed < 20; seed++) {
            Guard g = guard();
            Random rng = new Random(seed);
            for (int s = 0; s < 1000; s++) {
                healthy(g, s, rng);
            }
            assertThat(g.summary().rollbacks()).isZero();
        }
        Guard g = guard();
        Random rng = new Random(6);
        for (int s = 0; s < 100; s++) {
            healthy(g, s, rng);
        }
        // an adapter that cannot measure weights: the non-finite streak rule decides, as before
        Decision d = g.decide(StepStats.of(100, Double.NaN, true, new double[] {Double.NaN, 1.0}), null);
        assertThat(d.action()).isEqualTo(Action.SKIP);
    }
}
