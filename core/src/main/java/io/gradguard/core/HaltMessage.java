package io.gradguard.core;

/**
 * The message of the guard's halt: the step and why, where the explosion first showed, the last healthy step,
 * the learning-rate scale history, and what to change (the diagnosis's advice when it has some, else advice from
 * the largest stable learning rate and the typical gradient norm). Not to be confused with the run's diagnosis
 * ({@code io.gradguard.core.diagnose.RunDiagnosis}), whose advice it quotes.
 */
final class HaltMessage {

    private HaltMessage() {}

    static String text(long step, String why, long lastHealthyStep, double typicalNorm, double maxHealthyNorm,
            String firstBadParam, LrScaleSchedule schedule, double maxStableScale, String advice) {
        StringBuilder sb = new StringBuilder();
        sb.append("GradGuard halted the run at step ").append(step).append(": ").append(why);
        if (firstBadParam != null) {
            sb.append(". The explosion first showed in '").append(firstBadParam).append('\'');
        }
        if (lastHealthyStep >= 0) {
            sb.append(". Last healthy step: ").append(lastHealthyStep).append(" (typical gradient norm ")
                    .append(Guard.fmt(typicalNorm)).append(", largest healthy ").append(Guard.fmt(maxHealthyNorm)).append(')');
        } else {
            sb.append(". No healthy step was seen");
        }
        if (!schedule.history().isEmpty()) {
            sb.append(". Learning-rate scale history: ").append(schedule.describe());
        }
        sb.append(". What to change: ");
        if (advice != null && !advice.isEmpty()) {
            return sb.append(advice).toString();
        }
        if (!Double.isNaN(maxStableScale) && maxStableScale < 1.0) {
            sb.append("the largest stable learning rate seen was about ").append(Guard.fmt(maxStableScale))
                    .append("x yours; try at most ").append(Guard.fmt(maxStableScale / 2))
                    .append("x yours with a warm-up of a few hundred steps");
        } else {
            sb.append("lower the learning rate (try half or less) and add a warm-up of a few hundred steps");
        }
        if (lastHealthyStep >= 0 && Double.isFinite(typicalNorm)) {
            sb.append("; clip the global gradient norm at about ").append(Guard.fmt(2 * typicalNorm));
        }
        sb.append("; check the input data for non-finite or extreme values.");
        return sb.toString();
    }
}
