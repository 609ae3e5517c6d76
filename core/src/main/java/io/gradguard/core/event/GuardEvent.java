package io.gradguard.core.event;

/**
 * Something the guard noticed or did, readable as a sentence.
 *
 * @param step the step it happened at
 * @param kind what kind of event
 * @param detail a sentence: what was seen and what was done
 * @param param the parameter most involved, or null
 */
public record GuardEvent(long step, EventKind kind, String detail, String param) {

    @Override
    public String toString() {
        return "step " + step + " " + kind.key() + ": " + detail + (param == null ? "" : " [" + param + "]");
    }
}
