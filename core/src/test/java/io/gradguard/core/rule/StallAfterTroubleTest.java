package io.gradguard.core.rule;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The stall rule on synthetic streams: a plateau after a repair is cut; healthy and improving runs are not. */
class StallAfterTroubleTest {

    /** @return the first step at which the rule asks for a cut, or -1 */
    private static int feed(StallAfterTrouble r, double[] loss) {
        for (int t = 0; t < loss.length; t++) {
            if (r.observe(loss[t], 1.0)) {
                return t;
            }
        }
        return -1;
    }

    /** A noisy plateau: batch losses vary about 30% around 0.95 with no trend. */
    private static double[] plateau(Random rng, int steps) {
        double[] loss = new double[steps];
        for (int t = 0; t < steps; t++) {
            loss[t] = 0.95 * Math.exp(0.3 * rng.nextGaussian());
        }
        return loss;
    }

    /** A run still learning: the loss falls 0.3% a step under the same noise. */
    private static double[] learning(Random rng, int steps) {
        double[] loss = new double[steps];
        for (int t = 0; t < steps; t++) {
            loss[t] = 2.0 * Math.exp(-0.003 * t) * Math.exp(0.3 * rng.nextGaussian());
        }
        return loss;
    }

    @Test
    void aPlateauAfterARepairIsCutAfterTwoBlocksWithoutProgress() {
        StallAfterTrouble r = new StallAfterTrouble(50);
        r.arm();
        int at = feed(r, plateau(new Random(1), 1000));
        // the first block sets the best; the rule needs PATIENCE more blocks that fail to beat it
        assertThat(at).isGreaterThanOrEqualTo(50 * (1 + StallAfterTrouble.PATIENCE) - 1).isLessThan(400);
        assertThat(r.best()).isBetween(0.8, 1.2);
    }

    @Test
    void aHealthyRunIsNeverWatched() {
        // not armed: the same plateau never cuts, whatever the seed
        for (int seed = 0; seed < 20; seed++) {
            assertThat(feed(new StallAfterTrouble(50), plateau(new Random(seed), 2000))).isEqualTo(-1);
        }
    }

    @Test
    void aRepairedRunThatStillLearnsIsNotCut() {
        int falseAlarms = 0;
        for (int seed = 0; seed < 20; seed++) {
            StallAfterTrouble r = new StallAfterTrouble(50);
            r.arm();
            falseAlarms += feed(r, learning(new Random(seed), 600)) >= 0 ? 1 : 0;
        }
        assertThat(falseAlarms).as("learning runs cut, of 20").isZero();
    }

    @Test
    void zeroStepsTurnsItOffAndTheFloorStopsIt() {
        StallAfterTrouble off = new StallAfterTrouble(0);
        off.arm();
        assertThat(off.armed()).isFalse();
        assertThat(feed(off, plateau(new Random(3), 1000))).isEqualTo(-1);

        StallAfterTrouble low = new StallAfterTrouble(50);
        low.arm();
        double[] loss = plateau(new Random(3), 1000);
        for (double l : loss) {
            assertThat(low.observe(l, StallAfterTrouble.MIN_SCALE)).as("no cut below the floor").isFalse();
        }
    }
}
