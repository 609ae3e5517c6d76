package io.gradguard.core;

import io.gradguard.core.detect.ParameterNormTracker;
import io.gradguard.core.detect.SpikeDetector;

/**
 * The running statistics the ladder judges a step against: the global gradient norm's, the loss's and each
 * parameter's, with copies of the first two taken at each snapshot, so that a rollback restores them with
 * the parameters (statistics learnt from an exploding stretch would hide the next explosion).
 */
final class Detectors {

    private final GuardConfig config;
    SpikeDetector norm;
    SpikeDetector loss;
    ParameterNormTracker params;
    private SpikeDetector normAtSnapshot;
    private SpikeDetector lossAtSnapshot;
    /** No instability has shown yet: a norm must pass the wider calm ratio to count as a spike. */
    private boolean calm = true;

    Detectors(GuardConfig config) {
        this.config = config;
        this.norm = newNorm();
        this.loss = new SpikeDetector(config.lossZ(), config.lossRatio(), config.spikeAlpha(), config.spikeWarmup());
        this.params = new ParameterNormTracker(config.spikeAlpha());
    }

    private SpikeDetector newNorm() {
        return new SpikeDetector(config.spikeZ(), config.spikeRatio(), config.spikeAlpha(), config.spikeWarmup());
    }

    /**
     * Where a norm starts to count as a spike: {@code spike.calm} times the typical norm (or the z band) until the run
     * shows instability, then the norm detector's own threshold ({@code spike.ratio}). The clip of a spike goes down to
     * the latter either way.
     *
     * @return the norm's spike threshold now; +infinity while the detector warms up
     */
    double normSpikeAbove() {
        return calm && config.spikeCalm() > config.spikeRatio() ? norm.threshold(config.spikeCalm()) : norm.threshold();
    }

    /**
     * Instability showed (a clipped spike, a loss spike, a skipped outlier, a non-finite step, a rule's trouble): from
     * now on, for the rest of the run, a norm counts as a spike from {@code spike.ratio}.
     */
    void troubled() {
        calm = false;
    }

    /** A snapshot was taken: remember the statistics that go with it. */
    void remember() {
        normAtSnapshot = norm.copy();
        lossAtSnapshot = loss.copy();
    }

    /** A rollback restored the snapshot: so are the statistics. */
    void restore() {
        norm = normAtSnapshot.copy();
        loss = lossAtSnapshot.copy();
    }

    /** The set of trainable parameters changed: the per-parameter and the global-norm statistics start again. */
    void restartNorms() {
        params = new ParameterNormTracker(config.spikeAlpha());
        norm = newNorm();
    }
}
