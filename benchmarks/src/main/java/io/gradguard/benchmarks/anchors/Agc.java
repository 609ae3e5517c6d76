package io.gradguard.benchmarks.anchors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.nn.Parameter;
import ai.djl.training.Trainer;
import ai.djl.util.Pair;
import io.gradguard.models.ScenarioRun;
import java.util.ArrayList;
import java.util.List;

/**
 * Adaptive Gradient Clipping (Brock, De, Smith, Simonyan, "High-Performance Large-Scale Image Recognition
 * Without Normalization", ICML 2021): unit-wise, a gradient row {@code G_i} whose norm exceeds
 * {@code lambda * max(||W_i||, eps)} is rescaled to that norm; lambda 0.01, eps 1e-3. A unit is an output
 * row (norm over every axis but the first, DJL's and PyTorch's layout); a vector parameter (bias) is one
 * unit. The final layer is not clipped, as in the paper. Gradient norms are floored at 1e-6 before the
 * division, as in the common PyTorch port.
 */
public final class Agc implements ScenarioRun.Stepper {

    private long clipped;

    private final float lambda;
    private final float eps;

    /** The paper's defaults for batch sizes like ours: lambda 0.01, eps 1e-3. */
    public Agc() {
        this(0.01f, 1e-3f);
    }

    /**
     * @param lambda clipping factor
     * @param eps floor of the weight norm
     */
    public Agc(float lambda, float eps) {
        this.lambda = lambda;
        this.eps = eps;
    }

    private static NDArray unitNorm(NDArray x) {
        try (NDArray sq = x.square();
                NDArray sum = x.getShape().dimension() <= 1 ? sq.sum() : sq.sum(outputAxesExcluded(x), true)) {
            return sum.sqrt();
        }
    }

    private static int[] outputAxesExcluded(NDArray x) {
        int[] axes = new int[x.getShape().dimension() - 1];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = i + 1;
        }
        return axes;
    }

    @Override
    public void step(Trainer trainer, NDArray loss) {
        clip(trainer);
        trainer.step();
    }

    /**
     * Clips the trainer's gradients in place.
     *
     * @param trainer the trainer, after backward
     */
    public void clip(Trainer trainer) {
        boolean any = false;
        List<Pair<String, Parameter>> params = new ArrayList<>();
        for (Pair<String, Parameter> p : trainer.getModel().getBlock().getParameters()) {
            if (p.getValue().requiresGradient()) {
                params.add(p);
            }
        }
        String last = params.get(params.size() - 1).getKey();
        String finalLayer = last.contains("_") ? last.substring(0, last.lastIndexOf('_') + 1) : last;
        for (Pair<String, Parameter> p : params) {
            if (p.getKey().startsWith(finalLayer)) {
                continue;
            }
            NDArray w = p.getValue().getArray();
            NDArray g = w.getGradient();
            try (NDArray wNorm = unitNorm(w);
                    NDArray floored = wNorm.maximum(eps);
                    NDArray maxNorm = floored.mul(lambda);
                    NDArray gNorm = unitNorm(g);
                    NDArray gFloored = gNorm.maximum(1e-6f);
                    NDArray scale = maxNorm.div(gFloored);
                    NDArray keep = gNorm.lt(maxNorm);
                    NDArray ones = scale.onesLike();
                    NDArray factor = NDArrays.where(keep, ones, scale)) {
                // g where the unit is within bounds, g * max/||g|| where not: one in-place multiply
                g.muli(factor);
                if (!any) {
                    try (NDArray all = keep.all()) {
                        any = !all.getBoolean();
                    }
                }
            }
        }
        if (any) {
            clipped++;
        }
    }

    /** @return how many steps had at least one unit clipped */
    public long clipped() {
        return clipped;
    }
}
