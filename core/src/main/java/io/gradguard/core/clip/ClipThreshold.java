package io.gradguard.core.clip;

/**
 * Where the global gradient norm is clipped. The guard's own adaptive threshold is the spike threshold of
 * its norm detector ({@link io.gradguard.core.detect.SpikeDetector#threshold()}); this interface is for
 * thresholds set from outside, such as a fixed {@code clip.norm}.
 */
public interface ClipThreshold {

    /** @return the current threshold; +infinity when nothing should be clipped yet */
    double threshold();
}
