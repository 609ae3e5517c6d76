package io.gradguard.djl.internal;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.util.Pair;
import io.gradguard.core.RunInfo;
import java.util.ArrayList;
import java.util.List;

/**
 * Measures a trainer's gradients where they live. Per parameter it takes the L2 norm of the logical
 * gradient (summed over the trainer's devices, as DJL's parameter server does), optionally the weight
 * norm, and the batch loss; it stacks all these scalars into one vector on the first parameter's device
 * and copies that vector to the host once: a single device-to-host transfer per step (a second one only on a
 * step where a float32 norm overflowed, to tell a huge finite gradient from a non-finite one). All temporaries
 * live in a sub-manager closed before returning.
 */
public final class GradientInspector {

    /** The host-side result of one inspection. */
    public record Measurement(double[] gradNorms, double loss, double[] weightNorms, double[] inputColumns) {

        /**
         * @param gradNorms per-parameter gradient norms
         * @param loss the batch loss
         * @param weightNorms per-parameter weight norms, or null
         */
        public Measurement(double[] gradNorms, double loss, double[] weightNorms) {
            this(gradNorms, loss, weightNorms, null);
        }
    }

    private final List<Parameter> params = new ArrayList<>();
    private final List<Parameter> all = new ArrayList<>();
    private final int inputParameter;
    private final List<RunInfo.Parameter> described = new ArrayList<>();
    private final Device[] devices;
    private final ParameterStore store;
    private long hostReads;

    /**
     * Collects the trainer's trainable, initialized parameters in model order.
     *
     * @param trainer the trainer
     */
    public GradientInspector(Trainer trainer) {
        this.devices = trainer.getDevices();
        this.store = TrainerAccess.parameterStore(trainer);
        for (Pair<String, Parameter> pair : trainer.getModel().getBlock().getParameters()) {
            Parameter p = pair.getValue();
            all.add(p);
            if (p.requiresGradient() && p.isInitialized()) {
                params.add(p);
                described.add(new RunInfo.Parameter(pair.getKey(), p.getArray().size()));
            }
        }
        int first = -1;
        for (int k = 0; k < params.size() && first < 0; k++) {
            if (params.get(k).getArray().getShape().dimension() >= 2) {
                first = k;
            }
        }
        this.inputParameter = first;
    }

    /**
     * Whether the model's trainable set differs from the one measured (a block frozen or unfrozen since): one
     * flag per parameter, no allocation, cheap enough for every step.
     *
     * @return true when a parameter's trainability changed
     */
    public boolean trainableSetChanged() {
        int k = 0;
        for (Parameter p : all) {
            if (p.requiresGradient() && p.isInitialized()) {
                if (k >= params.size() || params.get(k) != p) {
                    return true;
                }
                k++;
            }
        }
        return k != params.size();
    }

    /**
     * @return the index of the first parameter with at least two axes (the first layer's weight, whose gradient
     *     is split by input column), or -1
     */
    public int inputParameter() {
        return inputParameter;
    }

    /** @return the parameters, as the core sees them */
    public List<RunInfo.Parameter> describe() {
        return described;
    }

    /** @return how many device-to-host copies this inspector has made (one per {@link #measure}) */
    public long hostReads() {
        return hostReads;
    }

    /** @return the trainable parameters, in the order of {@link #describe()} */
    public List<Parameter> parameters() {
        return java.util.Collections.unmodifiableList(params);
    }

    /** @return the number of trainable parameters */
    public int size() {
        return params.size();
    }

    /** @return true when the trainer's parameter copies per device could be reached */
    public boolean seesAllDevices() {
        return store != null || devices.length == 1;
    }

    /** @return the device of the first parameter */
    public Device device() {
        return params.isEmpty() ? devices[0] : params.get(0).getArray().getDevice();
    }

    /**
     * The copies of a parameter, one per training device.
     *
     * @param index parameter index
     * @return the arrays
     */
    public NDArray[] copies(int index) {
        Parameter p = params.get(index);
        if (store == null) {
            return new NDArray[] {p.getArray()};
        }
        NDArray[] out = new NDArray[devices.length];
        for (int d = 0; d < devices.length; d++) {
            out[d] = store.getValue(p, devices[d], true);
        }
        return out;
    }

    /**
     * Measures one step.
     *
     * @param loss the batch loss (any shape; its mean is used), or null
     * @param withWeights also measure the weight norms
     * @return the norms and the loss, on the host
     */
    public Measurement measure(NDArray loss, boolean withWeights) {
        int n = params.size();
        Device dev0 = device();
        NDManager owner = params.isEmpty() ? null : params.get(0).getArray().getManager();
        if (owner == null) {
            return new Measurement(new double[0], Double.NaN, null);
        }
        try (NDManager scope = owner.newSubManager(dev0)) {
            NDList parts = new NDList(n + 1 + (withWeights ? n : 0));
            NDArray[] summed = new NDArray[n];
            for (int i = 0; i < n; i++) {
                NDArray[] arrays = copies(i);
                NDArray g = scoped(scope, arrays[0].getGradient());
                for (int d = 1; d < arrays.length; d++) {
                    NDArray gd = scoped(scope, arrays[d].getGradient());
                    g = scoped(scope, g.add(scoped(scope, gd.toDevice(dev0, true))));
                }
                summed[i] = g;
                parts.add(asScalar(scope, g.norm(), dev0));
            }
            boolean hasLoss = loss != null;
            if (hasLoss) {
                parts.add(asScalar(scope, loss.mean(), dev0));
            }
            if (withWeights) {
                for (int i = 0; i < n; i++) {
                    parts.add(asScalar(scope, params.get(i).getArray().norm(), dev0));
                }
            }
            NDArray stacked = scoped(scope, NDArrays.stack(parts));
            int in = withWeights ? inputParameter() : -1;
            int columnCount = 0;
            if (in >= 0) {
                // the first layer's gradient per input column (every axis but the second): an input on a larger scale
                // than the rest shows as a larger column; rides in the same host copy
                NDArray g = summed[in];
                int[] axes = new int[g.getShape().dimension() - 1];
                for (int a = 0, k = 0; a < g.getShape().dimension(); a++) {
                    if (a != 1) {
                        axes[k++] = a;
                    }
                }
                NDArray columns = onDevice(scope, scoped(scope, scoped(scope, scoped(scope, g.square()).sum(axes)).sqrt()), dev0);
                columnCount = (int) columns.size();
                stacked = scoped(scope, NDArrays.concat(new NDList(stacked, columns)));
            }
            float[] host = stacked.toFloatArray();
            hostReads++;
            double[] grads = new double[n];
            for (int i = 0; i < n; i++) {
                grads[i] = host[i];
            }
            remeasureOverflows(scope, summed, grads, dev0);
            double lossValue = hasLoss ? host[n] : Double.NaN;
            double[] weights = null;
            if (withWeights) {
                weights = new double[n];
                int off = n + (hasLoss ? 1 : 0);
                for (int i = 0; i < n; i++) {
                    weights[i] = host[off + i];
                }
            }
            double[] columns = null;
            if (columnCount > 0) {
                columns = new double[columnCount];
                int off = n + (hasLoss ? 1 : 0) + n;
                for (int i = 0; i < columnCount; i++) {
                    columns[i] = host[off + i];
                }
            }
            return new Measurement(grads, lossValue, weights, columns);
        }
    }

    /**
     * A float32 norm is infinite when the sum of the squares overflows, even if every element is finite (an
     * element above about 1.8e19 is enough). Only a NaN or infinite element makes a gradient non-finite, so for
     * each norm that came back non-finite this takes the norm again in float64 and asks whether any element is
     * itself non-finite: one more host copy, on such steps only, and the real magnitude of a huge but finite
     * gradient.
     */
    private void remeasureOverflows(NDManager scope, NDArray[] summed, double[] grads, Device dev0) {
        List<Integer> suspects = new ArrayList<>();
        for (int i = 0; i < grads.length; i++) {
            if (!Double.isFinite(grads[i])) {
                suspects.add(i);
            }
        }
        if (suspects.isEmpty()) {
            return;
        }
        NDList parts = new NDList(2 * suspects.size());
        for (int i : suspects) {
            NDArray g = summed[i];
            parts.add(onDevice(scope, scoped(scope, scoped(scope, g.toType(DataType.FLOAT64, false)).norm()), dev0));
            NDArray bad = scoped(scope, scoped(scope, g.isNaN()).logicalOr(scoped(scope, g.isInfinite())));
            parts.add(onDevice(scope, scoped(scope, scoped(scope, bad.any()).toType(DataType.FLOAT64, false)), dev0));
        }
        double[] host = scoped(scope, NDArrays.stack(parts)).toDoubleArray();
        hostReads++;
        for (int k = 0; k < suspects.size(); k++) {
            if (host[2 * k + 1] == 0 && Double.isFinite(host[2 * k])) {
                grads[suspects.get(k)] = host[2 * k];
            }
        }
    }

    private static NDArray onDevice(NDManager scope, NDArray a, Device dev0) {
        return a.getDevice().equals(dev0) ? a : scoped(scope, a.toDevice(dev0, false));
    }

    /**
     * Measures the weight norms alone (used for the layer record of an event step).
     *
     * @return the weight norms, on the host
     */
    public double[] weightNorms() {
        int n = params.size();
        if (n == 0) {
            return new double[0];
        }
        Device dev0 = device();
        try (NDManager scope = params.get(0).getArray().getManager().newSubManager(dev0)) {
            NDList parts = new NDList(n);
            for (Parameter p : params) {
                parts.add(asScalar(scope, p.getArray().norm(), dev0));
            }
            float[] host = scoped(scope, NDArrays.stack(parts)).toFloatArray();
            hostReads++;
            double[] out = new double[n];
            for (int i = 0; i < n; i++) {
                out[i] = host[i];
            }
            return out;
        }
    }

    /**
     * Applies an in-place operation to every gradient copy of every parameter.
     *
     * @param op the operation
     */
    public void forEachGradient(java.util.function.Consumer<NDArray> op) {
        for (int i = 0; i < params.size(); i++) {
            for (NDArray a : copies(i)) {
                try (NDArray g = a.getGradient()) {
                    op.accept(g);
                }
            }
        }
    }

    private static NDArray scoped(NDManager scope, NDArray a) {
        a.attach(scope);
        return a;
    }

    private static NDArray asScalar(NDManager scope, NDArray a, Device dev0) {
        a = onDevice(scope, scoped(scope, a), dev0);
        if (a.getDataType() != DataType.FLOAT32) {
            a = scoped(scope, a.toType(DataType.FLOAT32, false));
        }
        return a;
    }
}
