package io.gradguard.core.diagnose;

import java.util.List;
import java.util.Optional;

/**
 * The result of diagnosing a run, a value: the findings of every rule that fired, in a fixed order (where it
 * started, model structure, inputs, data, loss, learning rate, warm-up, clip threshold). The {@link Diagnoser} is
 * the listener that watches the run and produces it ({@link Diagnoser#diagnose()}); a live guard gives it as
 * {@code Guard.diagnosis()}, a recorded log as {@code RunLog.diagnose()}.
 *
 * @param steps steps seen
 * @param neededHelp whether the guard had to clip, skip, roll back or halt (or saw a non-finite step)
 * @param findings the findings
 */
public record RunDiagnosis(long steps, boolean neededHelp, List<Finding> findings) {

    /**
     * @param rule a rule key
     * @return its finding, if it fired
     */
    public Optional<Finding> finding(String rule) {
        return findings.stream().filter(f -> f.rule().equals(rule)).findFirst();
    }

    /** @return the diagnosis as plain text, one finding per paragraph */
    public String text() {
        StringBuilder sb = new StringBuilder("GradGuard diagnosis (" + steps + " steps"
                + (neededHelp ? ", the run needed help" : ", no explosion") + "):");
        for (Finding f : findings) {
            sb.append('\n').append(f.text());
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return text();
    }
}
