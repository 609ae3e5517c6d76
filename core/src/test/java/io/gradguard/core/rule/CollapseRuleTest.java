package io.gradguard.core.rule;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.Action;
import io.gradguard.core.event.EventKind;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The collapse rule on synthetic streams: blow-up then death is caught; converging runs are not. */
class CollapseRuleTest {

    private static StepView step(long t, double loss, double norm) {
        return new StepView(t, loss, true, norm, true, Action.STEP, 1.0, false, false, false, 0, 1.0, false, null);
    }

    private static long feed(CollapseRule r, double[] loss, double[] norm) {
        for (int t = 0; t < loss.length; t++) {
            Trouble tr = r.check(step(t, loss[t], norm[t]));
            if (tr != null) {
                assertThat(tr.kind()).isEqualTo(EventKind.COLLAPSE);
                return t;
            }
        }
        return -1;
    }

    /** Blows up on step 2 (loss 4x the start, norm 5x), then dies: norm 0.05, loss flat at chance. */
    private static double[][] blowUpThenDeath(Random rng, int steps) {
        double[] loss = new double[steps];
        double[] norm = new double[steps];
        for (int t = 0; t < steps; t++) {
            loss[t] = t == 2 ? 8.0 : 2.08 * Math.exp(0.02 * rng.nextGaussian());
            norm[t] = t < 2 ? 5.0 : t == 2 ? 25.0 : 0.05 * Math.exp(0.3 * rng.nextGaussian());
        }
        return new double[][] {loss, norm};
    }

    @Test
    void blowUpThenDeathIsACollapse() {
        double[][] s = blowUpThenDeath(new Random(1), 200);
        CollapseRule r = new CollapseRule(30, 300, new LossRiseRule(3.0));
        long at = feed(r, s[0], s[1]);
        // the window must pass, and the loss spike of step 2 must fade from the smoothed loss (an EMA still falling from
        // it reads as improvement)
        assertThat(at).as("fires once the low norm and the stall have lasted the window").isBetween(29L, 60L);
        assertThat(r.suspected()).isFalse();
    }

    @Test
    void suspectedAsSoonAsTheNormIsDownAfterTrouble() {
        double[][] s = blowUpThenDeath(new Random(2), 15);
        CollapseRule r = new CollapseRule(30, 300, new LossRiseRule(3.0));
        feed(r, s[0], s[1]);
        assertThat(r.suspected()).as("no snapshot of a dead run").isTrue();
    }

    @Test
    void aDeathWithoutTroubleNeedsAFarDeeperDrop() {
        // the first update killed the run: norm 40 -> 0.5 (80x), loss flat at a fifth of the start
        double[] loss = new double[200];
        double[] norm = new double[200];
        for (int t = 0; t < 200; t++) {
            loss[t] = t == 0 ? 4.0 : 0.78;
            norm[t] = t == 0 ? 40.0 : 0.5;
        }
        assertThat(feed(new CollapseRule(30, 300, new LossRiseRule(3.0)), loss, norm)).as("80x is not enough without trouble").isEqualTo(-1);
        for (int t = 1; t < 200; t++) {
            norm[t] = 0.05;
        }
        assertThat(feed(new CollapseRule(30, 300, new LossRiseRule(3.0)), loss, norm)).as("800x is").isGreaterThan(0);
    }

    @Test
    void noFalseAlarmOnConvergingRuns() {
        // 200 runs whose loss falls to near zero while the gradient norm shrinks 1000x, and whose norms
        // spike now and then; none is a collapse: the loss keeps improving, or it is far below its start
        int alarms = 0;
        for (int seed = 0; seed < 200; seed++) {
            Random rng = new Random(seed);
            CollapseRule r = new CollapseRule(30, 300, new LossRiseRule(3.0));
            double start = 1 + rng.nextDouble();
            for (int t = 0; t < 1000; t++) {
                double level = Math.exp(-t / 150.0);
                double loss = start * Math.max(level * level, 1e-4) * Math.exp(0.2 * rng.nextGaussian());
                double norm = 10 * Math.max(level, 1e-3) * Math.exp(0.4 * rng.nextGaussian()) * (t % 97 == 5 ? 8 : 1);
                if (r.check(step(t, loss, norm)) != null) {
                    alarms++;
                    break;
                }
            }
        }
        assertThat(alarms).isZero();
    }

    @Test
    void offWithDropZero() {
        double[][] s = blowUpThenDeath(new Random(3), 200);
        assertThat(feed(new CollapseRule(0, 300, new LossRiseRule(3.0)), s[0], s[1])).isEqualTo(-1);
    }
}
