package io.gradguard.models;

import ai.djl.ndarray.types.Shape;
import java.util.Random;

/** Builds teacher-labelled regression data sets. */
final class Regression {

    private Regression() {}

    static ScenarioData data(Teacher teacher, int features, int trainRows, int evalRows, Random rng) {
        float[] x = new float[trainRows * features];
        float[] y = new float[trainRows];
        teacher.sample(trainRows, rng, x, y);
        float[] ex = new float[evalRows * features];
        float[] ey = new float[evalRows];
        teacher.sample(evalRows, rng, ex, ey);
        return new ScenarioData(
                x,
                new Shape(trainRows, features),
                y,
                new Shape(trainRows, 1),
                ex,
                new Shape(evalRows, features),
                ey,
                new Shape(evalRows, 1));
    }
}
