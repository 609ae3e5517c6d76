package io.gradguard.models;

import java.util.Random;

/**
 * A fixed random two-layer tanh network that labels regression data, so that a student model has a
 * learnable, smooth target. Pure Java: the data never depends on the engine.
 */
final class Teacher {

    private final int in;
    private final int hidden;
    private final float[] w1;
    private final float[] w2;
    private final double scale;

    Teacher(int in, int hidden, Random rng) {
        this(in, hidden, 2.0, rng);
    }

    Teacher(int in, int hidden, double scale, Random rng) {
        this.scale = scale;
        this.in = in;
        this.hidden = hidden;
        this.w1 = new float[in * hidden];
        this.w2 = new float[hidden];
        for (int i = 0; i < w1.length; i++) {
            w1[i] = (float) (rng.nextGaussian() / Math.sqrt(in));
        }
        for (int i = 0; i < w2.length; i++) {
            w2[i] = (float) (rng.nextGaussian() / Math.sqrt(hidden));
        }
    }

    /**
     * Draws {@code rows} standard-normal inputs and their labels (with a little label noise).
     *
     * @param rows how many rows
     * @param rng random source
     * @param x receives rows × in inputs
     * @param y receives rows labels
     */
    void sample(int rows, Random rng, float[] x, float[] y) {
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < in; i++) {
                x[r * in + i] = (float) rng.nextGaussian();
            }
            double out = 0;
            for (int h = 0; h < hidden; h++) {
                double a = 0;
                for (int i = 0; i < in; i++) {
                    a += x[r * in + i] * w1[i * hidden + h];
                }
                out += Math.tanh(a) * w2[h];
            }
            y[r] = (float) (scale * out + 0.05 * rng.nextGaussian());
        }
    }
}
