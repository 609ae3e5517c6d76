package io.gradguard.tensorflow.doctor;

/**
 * A weight initialization the doctor can assign to a graph variable ({@link TfReinit}). Fans are read
 * in TensorFlow's layouts: a matrix {@code [in, out]} as used by {@code matMul(x, w)}, a convolution
 * kernel {@code [k..., in, out]} (HWIO) with fan-in {@code in * prod(k)} and fan-out {@code out * prod(k)}.
 */
public enum InitScheme {

    /**
     * He (Kaiming) normal, fan-in mode: standard deviation {@code sqrt(2 / fanIn)}. For layers that feed
     * a ReLU (or its relatives): it keeps the backpropagated gradient's norm about constant from layer to
     * layer in a plain ReLU net.
     */
    HE,

    /**
     * Xavier (Glorot) normal: standard deviation {@code sqrt(2 / (fanIn + fanOut))}. For tanh and sigmoid
     * layers.
     */
    XAVIER,

    /**
     * Orthogonal, gain 1: the rows or the columns (whichever are fewer) orthonormal, from a Gram-Schmidt
     * pass over a Gaussian matrix. For square recurrent matrices, whose repeated product then neither
     * grows nor shrinks; a non-square matrix gets a semi-orthogonal one. Rank-2 variables only.
     */
    ORTHOGONAL;

    /**
     * The nominal standard deviation of the scheme's values for a kernel's fans.
     *
     * @param fanIn inputs per output unit, &gt; 0
     * @param fanOut outputs per input unit, &gt; 0
     * @return the standard deviation the scheme draws at (for {@link #ORTHOGONAL}, {@code 1 / sqrt(max(fanIn, fanOut))},
     *     which is exact for a square matrix)
     */
    public double std(long fanIn, long fanOut) {
        return switch (this) {
            case HE -> Math.sqrt(2.0 / fanIn);
            case XAVIER -> Math.sqrt(2.0 / (fanIn + fanOut));
            case ORTHOGONAL -> 1.0 / Math.sqrt(Math.max(fanIn, fanOut));
        };
    }
}
