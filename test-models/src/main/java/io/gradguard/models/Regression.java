package io.gradguard.models;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import java.util.Random;

/** Builds teacher-labelled regression data sets. */
final class Regression {

    private Regression() {}

    /** Regression data labelled by a fresh 32-unit teacher, with a 1024-row evaluation set. */
    static ScenarioData data(int features, int trainRows, Random rng) {
        return data(new Teacher(features, 32, rng), features, trainRows, 1024, rng);
    }

    /** A plain ReLU MLP: {@code depth} hidden layers of {@code width} units, one output. */
    static Block reluMlp(int depth, int width) {
        SequentialBlock block = new SequentialBlock();
        for (int i = 0; i < depth; i++) {
            block.add(Linear.builder().setUnits(width).build()).add(Activation::relu);
        }
        block.add(Linear.builder().setUnits(1).build());
        return block;
    }

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
