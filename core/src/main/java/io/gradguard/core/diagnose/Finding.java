package io.gradguard.core.diagnose;

import java.util.List;

/**
 * One conclusion drawn from a run, with the evidence it rests on.
 *
 * @param rule the rule that drew it: {@code origin}, {@code depth}, {@code inputs}, {@code recurrent},
 *     {@code data}, {@code loss}, {@code learning_rate}, {@code warmup}, {@code clip}
 * @param headline what was found, one sentence
 * @param advice what to change, one or two sentences
 * @param evidence the numbers and log lines it used
 */
public record Finding(String rule, String headline, String advice, List<String> evidence) {

    /** @return the finding as indented plain text */
    public String text() {
        StringBuilder sb = new StringBuilder();
        sb.append("- ").append(headline);
        if (advice != null && !advice.isEmpty()) {
            sb.append("\n  Advice: ").append(advice);
        }
        for (String e : evidence) {
            sb.append("\n  Evidence: ").append(e);
        }
        return sb.toString();
    }
}
