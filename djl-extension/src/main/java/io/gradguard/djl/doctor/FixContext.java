package io.gradguard.djl.doctor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * What a {@link StructureFix} may use besides the block.
 *
 * @param manager the manager new arrays (re-initialized values, statistics) are created in: the model's
 * @param inputShape the model's input shape, batch axis first
 * @param sample a sample of model inputs (rows along the first axis) for data-dependent fixes such as input
 *     standardization; may be null for fixes that do not need data
 */
public record FixContext(NDManager manager, Shape inputShape, NDArray sample) {}
