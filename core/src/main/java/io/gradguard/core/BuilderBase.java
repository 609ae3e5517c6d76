package io.gradguard.core;

/**
 * The root of {@link GuardConfig.Builder}'s setters. Each concern keeps the setters of its keys beside its
 * defaults and ranges ({@link DetectionSettings.Setters}, {@link RecoverySettings.Setters},
 * {@link RecordingSettings.Setters}), and the builder inherits them all: users see one flat builder. They form
 * a chain only because a class has one superclass; the order means nothing. The chain is sealed, so the
 * builder is the only class that is ever one of them.
 */
abstract sealed class BuilderBase permits DetectionSettings.Setters {

    /** Where the values being set come from, for error messages: {@code builder} unless text is being read. */
    String source = "builder";

    /** @return this, as the builder it always is */
    final GuardConfig.Builder self() {
        return (GuardConfig.Builder) this;
    }
}
