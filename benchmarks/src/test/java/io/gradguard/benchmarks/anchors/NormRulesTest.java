package io.gradguard.benchmarks.anchors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The anchors' thresholds against hand-computed values from their papers' definitions. */
class NormRulesTest {

    @Test
    void autoClipIsTheTenthPercentileOfEveryNormSoFarWithNumpyInterpolation() {
        AutoClip a = new AutoClip(10);
        assertThat(a.maxNorm(5)).isEqualTo(5.0);               // [5]
        assertThat(a.maxNorm(1)).isCloseTo(1.4, within(1e-12)); // [1, 5]: 1 + 0.1 * 4
        a.maxNorm(2);
        a.maxNorm(3);
        // [1, 2, 3, 4, 5]: np.percentile(..., 10) = 1.4
        assertThat(a.maxNorm(4)).isCloseTo(1.4, within(1e-12));
        assertThat(a.maxNorm(Double.NaN)).isNaN();
        assertThat(a.maxNorm(3)).as("numpy: one NaN in the history poisons every later percentile").isNaN();
    }

    @Test
    void zClipWarmsUpThenClipsAZScoreAboveTwoPointFiveReciprocallyAndLearnsTheClippedValue() {
        ZClip z = new ZClip(0.97, 2.5, 4);
        for (double n : new double[] {1, 2, 1, 2}) {
            assertThat(z.maxNorm(n)).as("warm-up: no clipping").isInfinite();
        }
        // warm-up statistics: mean 1.5, population variance 0.25 (std 0.5)
        assertThat(z.maxNorm(2.0)).as("z = 1: not clipped").isInfinite();
        // after the update: mean = 0.97*1.5 + 0.03*2 = 1.515; var = 0.97*0.25 + 0.03*(2 - 1.515)^2
        double mean = 1.515;
        double var = 0.97 * 0.25 + 0.03 * (2 - mean) * (2 - mean);
        double std = Math.sqrt(var);
        double spike = 10;
        double zScore = (spike - mean) / std;
        double expected = mean + (2.5 * 2.5 / zScore) * std;
        assertThat(z.maxNorm(spike)).isCloseTo(expected, within(1e-12));
        // the next normal value is judged against statistics that learnt the clipped value, not 10
        double mean2 = 0.97 * mean + 0.03 * expected;
        double var2 = 0.97 * var + 0.03 * (expected - mean2) * (expected - mean2);
        double z2 = (mean2 + 3 * Math.sqrt(var2) - mean2) / Math.sqrt(var2);
        assertThat(z2).isGreaterThan(2.5);
        assertThat(z.maxNorm(mean2 + 3 * Math.sqrt(var2))).isCloseTo(mean2 + (6.25 / z2) * Math.sqrt(var2), within(1e-9));
    }
}
