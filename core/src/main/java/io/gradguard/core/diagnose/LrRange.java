package io.gradguard.core.diagnose;

/**
 * The outcome of a learning-rate range test (Smith 2017; fast.ai's {@code lr_find}), for the diagnosis.
 *
 * @param divergenceLr the learning rate at which the loss diverged (NaN when it never did in the sweep)
 * @param suggestedLr the suggested learning rate
 * @param minLr the sweep's first learning rate
 * @param maxLr the sweep's last learning rate
 */
public record LrRange(double divergenceLr, double suggestedLr, double minLr, double maxLr) {}
