package io.gradguard.benchmarks.family;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sweep's row-by-row comparison of a candidate with the defaults of the same sweep. */
class FamilySweepTest {

    private static final double FAILED = Double.POSITIVE_INFINITY;

    private static Map<String, Double> rows(double... ratios) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < ratios.length; i++) {
            m.put("djl:s" + i, ratios[i]);
        }
        return m;
    }

    @Test
    void countsTheSetUpsThatMovedBeyondTheTieAndThoseThatCrossedOneAndAHalf() {
        // s0 tied (within 5%), s1 better and into 1.5x, s2 worse and out of it, s3 rescued from a failure, s4 failed where
        // the defaults did not, s5 two failures tie, s6 better but both above 1.5x
        Map<String, Double> defaults = rows(1.00, 1.80, 1.20, FAILED, 2.00, FAILED, 4.00);
        Map<String, Double> candidate = rows(1.04, 1.10, 1.70, 3.00, FAILED, FAILED, 2.00);
        FamilySweep.Versus v = FamilySweep.versus(defaults, candidate);
        assertThat(v).isEqualTo(new FamilySweep.Versus(3, 2, 1, 1));
        assertThat(FamilySweep.versus(defaults, defaults)).isEqualTo(new FamilySweep.Versus(0, 0, 0, 0));
    }

    @Test
    void refusesToCompareDifferentSets() {
        assertThatThrownBy(() -> FamilySweep.versus(rows(1, 2), rows(1)))
                .hasMessageContaining("ran 1 set-ups and the defaults 2");
    }
}
