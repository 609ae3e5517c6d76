package io.gradguard.core;

import java.util.Locale;

/** What the guard is allowed to do about an unhealthy step. */
public enum Policy {
    /**
     * The decision ladder: skip non-finite steps and outlier batches, clip gradient-norm spikes to the
     * threshold, and give up with a diagnosis when the run cannot be saved.
     */
    AUTO,
    /** Global-norm clipping only (fixed or adaptive threshold); non-finite steps are skipped. */
    CLIP,
    /** Measure and log everything, never act. */
    MONITOR,
    /** Do nothing at all; no measurement either. */
    OFF;

    /** @return the lower-case name used in configuration text */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @return true when this policy changes the training (clips, skips, aborts) */
    public boolean acts() {
        return this == AUTO || this == CLIP;
    }

    /**
     * Parses a policy name, case-insensitively.
     *
     * @param text the name
     * @return the policy
     * @throws IllegalArgumentException when the name is not one of {@code auto, clip, monitor, off}
     */
    public static Policy parse(String text) {
        for (Policy p : values()) {
            if (p.key().equalsIgnoreCase(text.trim())) {
                return p;
            }
        }
        throw new IllegalArgumentException("not a policy");
    }
}
