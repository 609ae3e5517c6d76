package io.gradguard.core.rule;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.Action;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The loss-slide rule on synthetic streams: a run that bounces back to a higher level for good, and false-alarm runs. */
class LossSlideRuleTest {

    private static StepView step(long t, double loss) {
        return new StepView(t, loss, true, 1.0, true, Action.STEP, 1.0, false, false, false, 0, 1.0, false, null);
    }

    /** Trains from 1.2 to 0.3 in 20 steps, then sits at {@code level} from step {@code from}, with 20% batch noise. */
    private static long firstAlarm(TroubleRule r, long seed, double level, int from, int steps) {
        Random rng = new Random(seed);
        for (int t = 0; t < steps; t++) {
            double mean = t < 20 ? 1.2 - 0.045 * t : t < from ? 0.3 : level;
            if (r.check(step(t, mean * Math.exp(0.2 * rng.nextGaussian()))) != null) {
                return t;
            }
        }
        return -1;
    }

    @Test
    void aRunThatBouncesBackToAHigherLevelForGoodIsCaught() {
        // back up to 0.5 (1.67x the 0.3 it reached) at step 100: under the regression rule's bar, above the slide's
        assertThat(firstAlarm(new LossRegressionRule(2.5), 1, 0.5, 100, 600)).as("the regression rule").isEqualTo(-1);
        LossSlideRule r = new LossSlideRule(1.4);
        long at = firstAlarm(r, 1, 0.5, 100, 600);
        assertThat(at).as("50 steps above 1.4x, after the EMA's lag of a few steps")
                .isBetween(100L + LossSlideRule.STEPS, 100L + LossSlideRule.STEPS + 15);
        // the alarm starts a new episode: the level the run sits at now is the new reference
        Random rng = new Random(3);
        for (long t = at + 1; t < at + 1000; t++) {
            assertThat(r.check(step(t, 0.5 * Math.exp(0.2 * rng.nextGaussian())))).isNull();
        }
        assertThat(firstAlarm(new LossSlideRule(0), 1, 0.5, 100, 600)).as("0 turns it off").isEqualTo(-1);
    }

    @Test
    void aClimbBackThatIsOverInLessThanFiftyStepsIsNoSlide() {
        LossSlideRule r = new LossSlideRule(1.4);
        Random rng = new Random(5);
        for (int t = 0; t < 1000; t++) {
            // 30 steps at twice the level, then back
            double mean = t < 20 ? 1.2 - 0.045 * t : t >= 300 && t < 330 ? 0.6 : 0.3;
            assertThat(r.check(step(t, mean * Math.exp(0.2 * rng.nextGaussian())))).as("step %d", t).isNull();
        }
    }

    @Test
    void longNoisyHealthyRunsRaiseNoAlarm() {
        // a loss that falls, then a 100k-step plateau, with log-normal batch noise of 30%, 50% and 70%: the run-long
        // minimum of a noisy average sinks ever lower, so a reference taken from it would see a climb everywhere
        int alarms = 0;
        for (double sigma : new double[] {0.3, 0.5, 0.7}) {
            for (int seed = 0; seed < 3; seed++) {
                LossSlideRule r = new LossSlideRule(1.4);
                Random rng = new Random(seed);
                for (int t = 0; t < 100_000; t++) {
                    double mean = 0.2 + 2 * Math.exp(-t / 2000.0);
                    alarms += r.check(step(t, mean * Math.exp(sigma * rng.nextGaussian()))) != null ? 1 : 0;
                }
            }
        }
        assertThat(alarms).isZero();
    }

    @Test
    void skippedBatchesAndUnknownLossesAreIgnored() {
        LossSlideRule r = new LossSlideRule(1.4);
        for (int t = 0; t < 100; t++) {
            r.check(step(t, 1.0));
        }
        for (int t = 100; t < 300; t++) {
            assertThat(r.check(new StepView(t, 1e6, true, 1.0, true, Action.SKIP, 0, true, false, false, 0, 1.0, false, null))).isNull();
            assertThat(r.check(new StepView(t, Double.NaN, false, 1.0, true, Action.STEP, 1, false, false, false, 0, 1.0, false, null))).isNull();
        }
    }
}
