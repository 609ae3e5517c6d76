package io.gradguard.core;

/** Turns what the guard saw into a sentence of advice. */
final class Diagnosis {

    private Diagnosis() {}

    static String halt(long step, int nonFiniteRun, long lastHealthyStep, double typicalNorm,
            double maxHealthyNorm, String firstBadParam) {
        StringBuilder sb = new StringBuilder();
        sb.append("GradGuard halted the run at step ").append(step).append(": ").append(nonFiniteRun)
                .append(" consecutive steps had a non-finite loss or gradient, so the parameters are no longer usable");
        if (firstBadParam != null) {
            sb.append("; the explosion first showed in '").append(firstBadParam).append('\'');
        }
        if (lastHealthyStep >= 0) {
            sb.append(". Last healthy step: ").append(lastHealthyStep).append(" (typical gradient norm ")
                    .append(Guard.fmt(typicalNorm)).append(", largest healthy ").append(Guard.fmt(maxHealthyNorm)).append(')');
        } else {
            sb.append(". No healthy step was seen");
        }
        sb.append(". What to change: lower the learning rate (try half, with a warm-up of a few hundred steps)");
        if (lastHealthyStep >= 0 && Double.isFinite(typicalNorm)) {
            sb.append(", clip the global gradient norm at about ").append(Guard.fmt(2 * typicalNorm));
        }
        sb.append(", and check the input data for non-finite or extreme values.");
        return sb.toString();
    }
}
