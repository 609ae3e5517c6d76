package io.gradguard.core.rule;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.Action;
import io.gradguard.core.event.EventKind;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The loss-rise rule on synthetic streams: it fires in the first steps of an explosion and never on noise. */
class LossRiseRuleTest {

    private static StepView step(long t, double loss, Action action) {
        return new StepView(t, loss, true, 1.0, Double.isFinite(loss), action, 1.0, false, false, false, 0, 1.0, false, null);
    }

    private static StepView step(long t, double loss) {
        return step(t, loss, Action.STEP);
    }

    @Test
    void firesOnTheSecondStepAboveThreeTimesTheStartingLoss() {
        LossRiseRule r = new LossRiseRule(3.0);
        assertThat(r.threshold()).isInfinite();
        assertThat(r.check(step(0, 2.0))).isNull();
        assertThat(r.threshold()).isEqualTo(6.0);
        assertThat(r.check(step(1, 7.0))).as("one high loss is not yet trouble").isNull();
        Trouble t = r.check(step(2, 40.0));
        assertThat(t).isNotNull();
        assertThat(t.kind()).isEqualTo(EventKind.RISE);
        assertThat(t.why()).contains("20.0x the loss the run started at (2.000)");
        assertThat(t.fatalWithoutRollback()).isFalse();
    }

    @Test
    void aSingleHighLossOrASkippedOutlierIsNotTrouble() {
        LossRiseRule r = new LossRiseRule(3.0);
        r.check(step(0, 1.0));
        for (int t = 1; t < 200; t++) {
            double loss = t % 17 == 0 ? 50.0 : 0.5;
            assertThat(r.check(step(t, loss))).as("step %d", t).isNull();
        }
        // two in a row, but the first was skipped as an outlier batch: its loss says nothing about the run
        assertThat(r.check(step(200, 50.0, Action.SKIP))).isNull();
        assertThat(r.check(step(201, 50.0))).isNull();
        assertThat(r.check(step(202, 0.4))).isNull();
    }

    @Test
    void rollbackForgetsTheStreakButNotTheStart() {
        LossRiseRule r = new LossRiseRule(3.0);
        r.check(step(0, 1.0));
        assertThat(r.check(step(1, 5.0))).isNull();
        r.rolledBack();
        assertThat(r.check(step(2, 5.0))).isNull();
        assertThat(r.check(step(3, 5.0))).isNotNull();
        assertThat(r.start()).isEqualTo(1.0);
    }

    @Test
    void offWithRatioZeroOrANonPositiveStartingLoss() {
        LossRiseRule off = new LossRiseRule(0);
        LossRiseRule negative = new LossRiseRule(3.0);
        off.check(step(0, 1.0));
        negative.check(step(0, -2.0));
        for (int t = 1; t < 10; t++) {
            assertThat(off.check(step(t, 1e9))).isNull();
            assertThat(negative.check(step(t, 1e9))).isNull();
        }
    }

    @Test
    void noFalseAlarmOnNoisyHealthyStreams() {
        // 200 streams: a loss that falls from its start with log-normal batch noise (+-35%), plateaus and, in
        // half of them, bumps up 1.5x for a while (a schedule restart): none goes 3x above the start twice
        int alarms = 0;
        for (int seed = 0; seed < 200; seed++) {
            Random rng = new Random(seed);
            LossRiseRule r = new LossRiseRule(3.0);
            double start = 0.5 + rng.nextDouble() * 3;
            for (int t = 0; t < 2000; t++) {
                double level = start * (0.2 + 0.8 * Math.exp(-t / 300.0)) * (seed % 2 == 0 && t > 1000 && t < 1100 ? 1.5 : 1);
                double loss = level * Math.exp(0.3 * rng.nextGaussian());
                if (t == 0) {
                    loss = start;
                }
                if (r.check(step(t, loss)) != null) {
                    alarms++;
                    break;
                }
            }
        }
        assertThat(alarms).isZero();
    }

    @Test
    void catchesAnEarlyExplosionWithinThreeSteps() {
        // the loss multiplies by 4 each step from step 1, as at a far too high learning rate
        LossRiseRule r = new LossRiseRule(3.0);
        long firedAt = -1;
        double loss = 2.0;
        for (int t = 0; t < 20 && firedAt < 0; t++) {
            if (r.check(step(t, loss)) != null) {
                firedAt = t;
            }
            loss *= 4;
        }
        assertThat(firedAt).isEqualTo(2);
    }
}
