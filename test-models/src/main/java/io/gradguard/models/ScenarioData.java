package io.gradguard.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Host-side training and evaluation data of a scenario.
 *
 * @param trainX training inputs, row-major
 * @param trainXShape shape of the training inputs
 * @param trainY training targets
 * @param trainYShape shape of the training targets
 * @param evalX evaluation inputs
 * @param evalXShape shape of the evaluation inputs
 * @param evalY evaluation targets
 * @param evalYShape shape of the evaluation targets
 */
public record ScenarioData(
        float[] trainX,
        Shape trainXShape,
        float[] trainY,
        Shape trainYShape,
        float[] evalX,
        Shape evalXShape,
        float[] evalY,
        Shape evalYShape) {

    /** Device-side copy of the data. */
    record Nd(NDArray trainX, NDArray trainY, NDArray evalX, NDArray evalY) {}

    Nd toNd(NDManager manager) {
        return new Nd(
                manager.create(trainX, trainXShape),
                manager.create(trainY, trainYShape),
                manager.create(evalX, evalXShape),
                manager.create(evalY, evalYShape));
    }
}
