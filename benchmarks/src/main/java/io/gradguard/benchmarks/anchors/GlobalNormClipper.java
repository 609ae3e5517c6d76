package io.gradguard.benchmarks.anchors;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.Trainer;
import ai.djl.util.Pair;
import io.gradguard.models.ScenarioRun;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies a {@link NormRule} to a DJL trainer's gradients before {@code trainer.step()}, with
 * PyTorch's {@code clip_grad_norm_} semantics: {@code coef = max_norm / (total_norm + 1e-6)}, clamped
 * to at most 1, and every gradient multiplied by it (NaN included, as PyTorch does).
 */
public final class GlobalNormClipper implements ScenarioRun.Stepper {

    private final NormRule rule;
    private long clipped;

    /** @param rule the rule */
    public GlobalNormClipper(NormRule rule) {
        this.rule = rule;
    }

    static List<NDArray> gradients(Trainer trainer) {
        List<NDArray> out = new ArrayList<>();
        for (Pair<String, Parameter> p : trainer.getModel().getBlock().getParameters()) {
            if (p.getValue().requiresGradient()) {
                out.add(p.getValue().getArray().getGradient());
            }
        }
        return out;
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
     * @return the global norm before clipping
     */
    public double clip(Trainer trainer) {
        List<NDArray> grads = gradients(trainer);
        double sumSq = 0;
        for (NDArray g : grads) {
            // per-tensor norms by the engine (PyTorch's vector_norm, as clip_grad_norm_ takes them), then their norm
            try (NDArray n = g.norm()) {
                double v = n.getFloat();
                sumSq += v * v;
            }
        }
        double norm = Math.sqrt(sumSq);
        double max = rule.maxNorm(norm);
        if (!Double.isInfinite(max) || Double.isNaN(max)) {
            double coef = Math.min(max / (norm + 1e-6), 1.0);
            if (Double.isNaN(coef) || coef < 1.0) {
                clipped++;
            }
            for (NDArray g : grads) {
                g.muli((float) coef);
            }
        }
        return norm;
    }

    /** @return steps whose gradients were scaled down (or made NaN) */
    public long clipped() {
        return clipped;
    }
}
