package io.gradguard.core;

import java.nio.file.Path;
import java.util.List;

/**
 * What the guard writes down: the JSONL event log and how often it records per-layer norms. Declares its keys,
 * their defaults and ranges once, and gives {@link GuardConfig.Builder} their setters ({@link Setters}).
 *
 * @param log see {@link GuardConfig#log()}; null for none
 * @param layersEvery see {@link GuardConfig#layersEvery()}
 */
record RecordingSettings(Path log, int layersEvery) {

    // The default; GuardConfig publishes it as DEFAULT_LAYERS_EVERY. The log's default is none.
    static final int DEFAULT_LAYERS_EVERY = 100;

    static final ConfigKey LOG = ConfigKey.of(ConfigKeys.LOG, "a file path", "none", "JSONL event log",
            (b, key, value, source) -> b.log(value.isEmpty() ? null : Path.of(value)),
            c -> c.log() == null ? "" : c.log().toString());
    static final ConfigKey LAYERS_EVERY = ConfigKey.integer(ConfigKeys.LAYERS_EVERY, NumberRange.atLeast(0),
            DEFAULT_LAYERS_EVERY, "steps between per-layer norm records (0: only at events)",
            GuardConfig.Builder::layersEvery, GuardConfig::layersEvery);

    /** The keys, in the order {@link ConfigKeys#descriptions()} lists them. */
    static final List<ConfigKey> KEYS = List.of(LOG, LAYERS_EVERY);

    /** The setters of these keys, inherited by {@link GuardConfig.Builder}. */
    abstract static sealed class Setters extends RecoverySettings.Setters permits GuardConfig.Builder {

        private Path log;
        private int layersEvery = DEFAULT_LAYERS_EVERY;

        Setters() {}

        Setters(GuardConfig prototype) {
            super(prototype);
            log = prototype.recording.log;
            layersEvery = prototype.recording.layersEvery;
        }

        /**
         * @param v the JSONL event log path, or null for none
         * @return this builder
         */
        public GuardConfig.Builder log(Path v) {
            log = v;
            return self();
        }

        /**
         * @param v {@link GuardConfig#layersEvery()}, >= 0
         * @return this builder
         */
        public GuardConfig.Builder layersEvery(int v) {
            layersEvery = LAYERS_EVERY.check(v, source);
            return self();
        }

        /** @return the settings */
        final RecordingSettings recording() {
            return new RecordingSettings(log, layersEvery);
        }
    }
}
