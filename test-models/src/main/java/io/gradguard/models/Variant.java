package io.gradguard.models;

/** Which configuration of a {@link Scenario} to build. */
public enum Variant {
    /** The set-up that explodes without help (too high a learning rate, a corrupted batch...). */
    EXPLODING,
    /** The tuned, stable set-up whose final loss is the scenario's reference. */
    REFERENCE
}
