package io.gradguard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gradguard.core.detect.SpikeDetector;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SpikeDetectorTest {

    @Test
    void judgesNothingDuringWarmup() {
        SpikeDetector d = new SpikeDetector(6, 2, 0.98, 5);
        for (int i = 0; i < 4; i++) {
            d.update(1.0);
            assertThat(d.isSpike(1e9)).isFalse();
        }
        d.update(1.0);
        assertThat(d.ready()).isTrue();
        assertThat(d.isSpike(1e9)).isTrue();
    }

    @Test
    void ratioFloorAppliesToASteadySignal() {
        SpikeDetector d = new SpikeDetector(6, 2, 0.98, 5);
        for (int i = 0; i < 100; i++) {
            d.update(3.0);
        }
        assertThat(d.typical()).isCloseTo(3.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(d.threshold()).isCloseTo(6.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(d.isSpike(5.9)).isFalse();
        assertThat(d.isSpike(6.1)).isTrue();
    }

    @Test
    void noisySignalWidensTheBand() {
        Random rng = new Random(1);
        SpikeDetector d = new SpikeDetector(6, 2, 0.98, 20);
        for (int i = 0; i < 2000; i++) {
            d.update(Math.exp(0.5 * rng.nextGaussian()));
        }
        assertThat(d.logStd()).isBetween(0.35, 0.65);
        assertThat(d.threshold()).isGreaterThan(Math.exp(6 * 0.35));
    }

    @Test
    void copyIsIndependent() {
        SpikeDetector d = new SpikeDetector(6, 2, 0.98, 2);
        d.update(1);
        d.update(1);
        SpikeDetector c = d.copy();
        d.update(1000);
        assertThat(c.typical()).isEqualTo(1.0);
        assertThat(d.typical()).isGreaterThan(1.0);
    }

    @Test
    void ignoresNonPositiveAndNonFiniteValues() {
        SpikeDetector d = new SpikeDetector(6, 2, 0.98, 2);
        d.update(0);
        d.update(Double.NaN);
        d.update(Double.POSITIVE_INFINITY);
        assertThat(d.count()).isZero();
    }

    @Test
    void rejectsBadParameters() {
        assertThatThrownBy(() -> new SpikeDetector(6, 0.5, 0.98, 2)).hasMessageContaining("minRatio=0.5");
    }
}
