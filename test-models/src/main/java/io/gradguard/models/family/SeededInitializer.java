package io.gradguard.models.family;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.initializer.Initializer;
import java.util.Random;

/**
 * Initializes weights from a Java {@link Random} of its own, so that a set-up's initial parameters depend
 * on its seed alone, never on the engine's random state or on what ran before in the same JVM. Fan-in and
 * fan-out are read from the shape: {@code (out, in, kernel...)}.
 */
final class SeededInitializer implements Initializer {

    private final Setup.Init scheme;
    private final Random rng;

    SeededInitializer(Setup.Init scheme, long seed) {
        this.scheme = scheme;
        this.rng = new Random(seed);
    }

    @Override
    public NDArray initialize(NDManager manager, Shape shape, DataType dataType) {
        long[] d = shape.getShape();
        long receptive = 1;
        for (int i = 2; i < d.length; i++) {
            receptive *= d[i];
        }
        double fanIn = d.length >= 2 ? d[1] * receptive : d[0];
        double fanOut = d[0] * receptive;
        int n = (int) shape.size();
        float[] v = new float[n];
        switch (scheme) {
            case HE -> fill(v, Math.sqrt(2.0 / fanIn));
            case LECUN -> fill(v, Math.sqrt(1.0 / fanIn));
            case XAVIER -> {
                double limit = Math.sqrt(6.0 / (fanIn + fanOut));
                for (int i = 0; i < n; i++) {
                    v[i] = (float) ((rng.nextDouble() * 2 - 1) * limit);
                }
            }
            default -> throw new IllegalStateException(scheme.name());
        }
        NDArray a = manager.create(v, shape);
        return dataType == DataType.FLOAT32 ? a : a.toType(dataType, false);
    }

    private void fill(float[] v, double std) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * std);
        }
    }
}
