package io.gradguard.core.event;

/**
 * Something the guard noticed or did, readable as a sentence.
 *
 * @param step the step it happened at
 * @param kind what kind of event
 * @param detail a sentence: what was seen and what was done
 * @param param the parameter most involved, or null
 * @param data structured facts for machines (snake_case keys, e.g. a rollback's {@code to_step}); may be
 *     empty, never null
 */
public record GuardEvent(long step, EventKind kind, String detail, String param, java.util.Map<String, Object> data) {

    /**
     * An event without structured facts.
     *
     * @param step the step
     * @param kind the kind
     * @param detail the sentence
     * @param param the parameter most involved, or null
     */
    public GuardEvent(long step, EventKind kind, String detail, String param) {
        this(step, kind, detail, param, java.util.Map.of());
    }

    @Override
    public String toString() {
        return "step " + step + " " + kind.key() + ": " + detail + (param == null ? "" : " [" + param + "]");
    }
}
