package io.gradguard.core.diagnose;

import io.gradguard.core.internal.Numbers;

/** How the findings write numbers and quote log lines, so that every rule writes them alike. */
final class FindingText {

    private FindingText() {}

    /** @return {@code v} to three significant digits */
    static String fmt(double v) {
        return Numbers.significant(v, 3);
    }

    /** @return {@code s} cut to {@code n} characters with "..." after a cut; "" for null */
    static String cut(String s, int n) {
        return s == null ? "" : s.length() <= n ? s : s.substring(0, n) + "...";
    }
}
