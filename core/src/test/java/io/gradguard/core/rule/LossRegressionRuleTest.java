package io.gradguard.core.rule;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.Action;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The loss-regression rule on synthetic streams. */
class LossRegressionRuleTest {

    private static StepView step(long t, double loss) {
        return new StepView(t, loss, true, 1.0, true, Action.STEP, 1.0, false, false, false, 0, 1.0, false, null);
    }

    @Test
    void aRunThatTrainsThenClimbsBackIsCaught() {
        // falls from 1.2 to 0.3 in 20 steps, then climbs 2% a step, with batch noise
        Random rng = new Random(7);
        LossRegressionRule r = new LossRegressionRule(3.0);
        long at = -1;
        for (int t = 0; t < 300 && at < 0; t++) {
            double level = t < 20 ? 1.2 - 0.045 * t : 0.3 * Math.pow(1.02, t - 20);
            Trouble tr = r.check(step(t, level * Math.exp(0.2 * rng.nextGaussian())));
            if (tr != null) {
                at = t;
                assertThat(tr.why()).contains("climbed to").contains("the best it had reached");
            }
        }
        assertThat(at).as("3x above 0.3 at about step 20 + ln 3 / ln 1.02 = 75, plus the EMA's lag").isBetween(70L, 110L);
    }

    @Test
    void noFalseAlarmOnNoisyHealthyRunsNearZeroLoss() {
        int alarms = 0;
        for (int seed = 0; seed < 200; seed++) {
            Random rng = new Random(seed);
            LossRegressionRule r = new LossRegressionRule(3.0);
            for (int t = 0; t < 2000; t++) {
                // converges to 1e-3 of its start: noise around a tiny loss is large in relative terms
                double level = Math.max(Math.exp(-t / 100.0), 1e-3) * (seed % 3 == 0 && t > 800 && t < 900 ? 2 : 1);
                if (r.check(step(t, level * Math.exp(0.5 * rng.nextGaussian()))) != null) {
                    alarms++;
                    break;
                }
            }
        }
        assertThat(alarms).isZero();
    }

    @Test
    void skippedBatchesAndUnknownLossesAreIgnored() {
        LossRegressionRule r = new LossRegressionRule(3.0);
        for (int t = 0; t < 20; t++) {
            r.check(step(t, 1.0));
        }
        for (int t = 20; t < 100; t++) {
            assertThat(r.check(new StepView(t, 1e6, true, 1.0, true, Action.SKIP, 0, true, false, false, 0, 1.0, false, null))).isNull();
            assertThat(r.check(new StepView(t, Double.NaN, false, 1.0, true, Action.STEP, 1, false, false, false, 0, 1.0, false, null))).isNull();
        }
    }
}
