package io.gradguard.core.clip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The bounded percentile the cap after a rollback reads, against a brute-force sort of the same window. */
class NormPercentileTest {

    /** numpy.percentile's default (linear) on a sorted copy. */
    private static double reference(Deque<Double> window, double p) {
        double[] v = window.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        double rank = p / 100.0 * (v.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, v.length - 1);
        return v[lo] + (rank - lo) * (v[hi] - v[lo]);
    }

    @Test
    void matchesASortOfTheLastValuesAsTheWindowSlides() {
        for (int capacity : new int[] {1, 2, 7, 100}) {
            NormPercentile w = new NormPercentile(capacity);
            Deque<Double> window = new ArrayDeque<>();
            Random r = new Random(capacity);
            for (int i = 0; i < 1000; i++) {
                // ties (rounded values) and wide ranges both occur
                double v = i % 3 == 0 ? Math.round(r.nextDouble() * 5) : Math.exp(4 * r.nextGaussian());
                w.add(v);
                window.addLast(v);
                if (window.size() > capacity) {
                    window.removeFirst();
                }
                assertThat(w.count()).isEqualTo(window.size());
                for (double p : new double[] {0, 10, 25, 50, 90, 100}) {
                    assertThat(w.percentile(p)).as("capacity %d, value %d, p%s", capacity, i, p)
                            .isEqualTo(reference(window, p));
                }
            }
        }
    }

    @Test
    void ignoresNonFiniteValuesAndIsEmptyAfterClear() {
        NormPercentile w = new NormPercentile(4);
        assertThat(w.percentile(10)).isNaN();
        w.add(Double.NaN);
        w.add(Double.POSITIVE_INFINITY);
        assertThat(w.count()).isZero();
        w.add(2.0);
        w.add(4.0);
        assertThat(w.percentile(50)).isEqualTo(3.0);
        assertThat(w.percentile(10)).isEqualTo(2.2);
        w.clear();
        assertThat(w.count()).isZero();
        assertThat(w.percentile(50)).isNaN();
    }

    @Test
    void refusesABadCapacityOrPercentile() {
        assertThatThrownBy(() -> new NormPercentile(0)).hasMessageContaining("at least 1, but was 0");
        NormPercentile w = new NormPercentile(3);
        assertThatThrownBy(() -> w.percentile(101)).hasMessageContaining("[0, 100], but was 101");
        assertThatThrownBy(() -> w.percentile(Double.NaN)).hasMessageContaining("but was NaN");
    }
}
