package io.gradguard.models.family;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A 3x3 convolution (stride 1, zero padding 1) written as nine shifted slices and one matrix product, and
 * a 2x2 max-pooling written as a reshape and a max: the same functions as DJL's {@code Conv2d} and
 * {@code Pool.maxPool2dBlock}, built from plain tensor operations.
 *
 * <p>Why not DJL's blocks: on this machine PyTorch 2.7.1's CPU convolution backward (oneDNN) gave
 * non-finite or different gradients from run to run for the same seeded conv net (9 of 1000 fresh steps
 * had a NaN gradient; the same set-up ended at 0.036, 0.10 or NaN depending on the process), which would
 * make the family's oracle and every comparison a lottery. These operations are reproducible.
 */
final class Conv3x3 extends AbstractBlock {

    private final int filters;
    private final Parameter weight;
    private final Parameter bias;

    Conv3x3(int filters) {
        this.filters = filters;
        this.weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT).build());
        this.bias = addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BIAS).build());
    }

    @Override
    protected void prepare(Shape[] inputShapes) {
        long channels = inputShapes[0].get(1);
        weight.setShape(new Shape(filters, channels, 3, 3));
        bias.setShape(new Shape(filters));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        long b = x.getShape().get(0);
        long c = x.getShape().get(1);
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        NDArray padded = x.pad(new Shape(1, 1, 1, 1), 0);
        NDList shifted = new NDList(9);
        for (int di = 0; di < 3; di++) {
            for (int dj = 0; dj < 3; dj++) {
                shifted.add(padded.get(new NDIndex(":, :, {}:{}, {}:{}", di, di + h, dj, dj + w)));
            }
        }
        // (b, c, 9, h, w) -> (b, c*9, h*w); the weight (f, c, 3, 3) -> (f, c*9) in the same order
        NDArray patches = NDArrays.stack(shifted, 2).reshape(b, c * 9, h * w);
        NDArray k = ps.getValue(weight, x.getDevice(), training).reshape(filters, c * 9);
        NDArray bv = ps.getValue(bias, x.getDevice(), training).reshape(filters, 1);
        NDArray out = k.matMul(patches).add(bv);
        return new NDList(out.reshape(b, filters, h, w));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), filters, s.get(2), s.get(3))};
    }

    /**
     * 2x2 max-pooling with stride 2 over the last two axes, which must be even.
     *
     * @param list one (batch, channels, h, w) array
     * @return one (batch, channels, h/2, w/2) array
     */
    static NDList maxPool2(NDList list) {
        NDArray x = list.singletonOrThrow();
        Shape s = x.getShape();
        return new NDList(x.reshape(s.get(0), s.get(1), s.get(2) / 2, 2, s.get(3) / 2, 2).max(new int[] {5}).max(new int[] {3}));
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        // no children
    }
}
