package io.gradguard.tensorflow.doctor;

import org.tensorflow.ndarray.Shape;

/**
 * One variable that {@link TfReinit} re-initialized. Its name and shape are the same before and after:
 * the values are assigned in the session, the graph keeps its variable.
 *
 * @param name the variable's op name
 * @param shape its shape
 * @param scheme the initialization assigned
 * @param oldStd the standard deviation of its values before
 * @param newStd the standard deviation of the values assigned (measured on them, not the scheme's nominal value)
 */
public record VariableChange(String name, Shape shape, InitScheme scheme, double oldStd, double newStd) {}
