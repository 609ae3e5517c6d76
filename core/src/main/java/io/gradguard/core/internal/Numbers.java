package io.gradguard.core.internal;

import java.util.Locale;

/** Numbers as GradGuard's messages and reports write them. Not part of the API. */
public final class Numbers {

    private Numbers() {}

    /**
     * @param v a number
     * @param digits how many significant digits, at least 1
     * @return {@code v} to that many significant digits ({@code %g} in {@link Locale#ROOT}: {@code 0.0123},
     *     {@code 1.23e+05}); {@code NaN}, {@code Infinity} and {@code -Infinity} as such
     */
    public static String significant(double v, int digits) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + digits + "g", v) : Double.toString(v);
    }
}
