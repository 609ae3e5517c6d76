package io.gradguard.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link Numbers#significant}: the format Diagnoser.fmt and the TensorFlow flow report had each written for themselves. */
class NumbersTest {

    @Test
    void significantDigitsInTheRootLocaleAndNonFiniteValuesByName() {
        assertThat(Numbers.significant(0.012345, 3)).isEqualTo("0.0123");
        assertThat(Numbers.significant(123456.0, 3)).isEqualTo("1.23e+05");
        assertThat(Numbers.significant(2.5, 4)).isEqualTo("2.500");
        assertThat(Numbers.significant(Double.NaN, 3)).isEqualTo("NaN");
        assertThat(Numbers.significant(Double.NEGATIVE_INFINITY, 3)).isEqualTo("-Infinity");
    }
}
