package io.gradguard.djl;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.ArrayDataset;

/** A 16-row, 4-feature regression set in four batches of four, optionally with one NaN in the third batch. */
public final class TinyData {

    private TinyData() {}

    /**
     * @param m the manager
     * @param scale the inputs' amplitude
     * @param nanInThirdBatch put a NaN into one input of the third batch
     * @return the data set, in order
     */
    public static ArrayDataset regression(NDManager m, float scale, boolean nanInThirdBatch) {
        float[] x = new float[16 * 4];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i * 0.7) * scale;
        }
        if (nanInThirdBatch) {
            x[2 * 4 * 4] = Float.NaN;
        }
        float[] y = new float[16];
        for (int i = 0; i < y.length; i++) {
            y[i] = i % 3;
        }
        return new ArrayDataset.Builder()
                .setData(m.create(x, new Shape(16, 4))).optLabels(m.create(y, new Shape(16, 1)))
                .setSampling(4, false).build();
    }
}
