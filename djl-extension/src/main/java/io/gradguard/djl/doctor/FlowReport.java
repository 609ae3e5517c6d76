package io.gradguard.djl.doctor;

import io.gradguard.core.internal.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What a {@link FlowCheck} measured at initialization: per layer the gradient and weight norms and the update the
 * optimizer would make, per child of a {@code SequentialBlock} the activations' size, the trend of both with depth,
 * and the findings that leave the documented ranges.
 *
 * <p>The ranges (constants below) are first choices from the literature's rules of thumb and the zoo's two deep
 * MLPs, <b>not tuned yet</b>: a layer is out of range when
 * <ul>
 *   <li>the backward signal's size (see {@code gradGrowthPerLayer}) compounds over the depth beyond {@link #COMPOUND_MAX}x or below
 *       {@link #COMPOUND_MIN}x from the output-side layer to the input-side one (named: the layer nearest the output
 *       where the fitted trend, compounded from the output, crosses the bound; a per-layer factor well inside
 *       [{@link #STEP_MIN}, {@link #STEP_MAX}], such as 1.4, still compounds to 100x over 14 layers);</li>
 *   <li>the activations' RMS after the weight layers compounds the same way, input side to output side, or jumps
 *       by more than {@link #STEP_MAX}x (less than {@link #STEP_MIN}x) from one weight layer to the next (the output
 *       layer's step excepted: training matches its scale to the targets);</li>
 *   <li>the first update would move a weight by more than {@link #UPDATE_MAX} or less than {@link #UPDATE_MIN}
 *       of its norm;</li>
 *   <li>the input columns' standard deviations spread more than {@link #INPUT_SPREAD_MAX}x (largest over median);</li>
 *   <li>any loss, gradient or activation is not finite.</li>
 * </ul>
 *
 * @param layers one row per weight parameter, in model order (input side first)
 * @param activations one row per child of every {@code SequentialBlock} met from the root, in forward order; empty
 *     when the root is not a {@code SequentialBlock}
 * @param gradGrowthPerLayer the factor by which the backward signal's RMS grows per layer towards the input (exp of
 *     minus the least-squares slope of ln RMS against depth); the signal is the loss's gradient with respect to the
 *     output of each weight layer where the root is a {@code SequentialBlock} ({@link Activation#gradRms()}), and the
 *     weight gradients' RMS per element otherwise; NaN with fewer than 3 layers
 * @param gradCompound {@code gradGrowthPerLayer} compounded over the depth (the number of layers less one)
 * @param activationGrowthPerLayer the factor by which the activations' RMS after the weight layers grows per layer
 *     towards the output (fitted the same way); NaN with fewer than 3 such outputs
 * @param inputColumnSpread the largest input column standard deviation over the median one, measured on the first
 *     batch where it enters the first block with trainable parameters (after a leading standardization, say; the
 *     model's input where the root is not a {@code SequentialBlock}); NaN for inputs with fewer than 2 columns
 * @param loss the mean loss over the checked batches
 * @param updateRule how the update-to-weight ratio was computed, in words
 * @param learningRate the learning rate that ratio uses
 * @param findings everything out of range, forward findings first (input side first), then gradients, then updates
 * @param passes forward-and-backward passes the check ran (one per batch)
 * @param millis wall-clock time of the check, milliseconds
 */
public record FlowReport(List<Layer> layers, List<Activation> activations, double gradGrowthPerLayer,
        double gradCompound, double activationGrowthPerLayer, double inputColumnSpread, double loss, String updateRule, double learningRate,
        List<Finding> findings, int passes, long millis) {

    /** Lowest ratio of one layer's figure to its neighbour's before a single layer counts as out of range. */
    public static final double STEP_MIN = 0.5;
    /** Highest ratio of one layer's figure to its neighbour's before a single layer counts as out of range. */
    public static final double STEP_MAX = 2;
    /** Lowest compounded ratio across the depth. */
    public static final double COMPOUND_MIN = 0.1;
    /** Highest compounded ratio across the depth. */
    public static final double COMPOUND_MAX = 10;
    /** Largest first update relative to the weight's norm. */
    public static final double UPDATE_MAX = 1e-1;
    /** Smallest first update relative to the weight's norm. */
    public static final double UPDATE_MIN = 1e-5;
    /** Largest spread of the input columns' standard deviations (largest over median). */
    public static final double INPUT_SPREAD_MAX = 4;

    /**
     * One weight parameter and its layer.
     *
     * @param name the weight parameter's name (DJL's, e.g. {@code 01Linear_weight})
     * @param block the block part of the name (the name without its last {@code _part})
     * @param depth the index among the weight rows, 0 on the input side
     * @param size the number of elements
     * @param gradNorm L2 norm of the gradient, summed over the checked batches' mean
     * @param weightNorm L2 norm of the weight
     * @param gradToWeight {@code gradNorm / weightNorm}
     * @param updateToWeight the first update's norm over the weight's norm, by {@link FlowReport#updateRule()}
     * @param biasGradNorm L2 norm of the same block's bias gradient, NaN when it has none
     */
    public record Layer(String name, String block, int depth, long size, double gradNorm, double weightNorm,
            double gradToWeight, double updateToWeight, double biasGradNorm) {

        /** @return the gradient's RMS per element, {@code gradNorm / sqrt(size)} */
        public double gradRms() {
            return gradNorm / Math.sqrt(Math.max(1, size));
        }
    }

    /**
     * The activations after one child block.
     *
     * @param block the child's path from the root, e.g. {@code 03Linear}
     * @param rms root mean square of its first output
     * @param ratio {@code rms} over the RMS of what went into it
     * @param gradRms RMS of the loss's gradient with respect to this output (the backward signal at this depth)
     * @param weighted true when the child holds a weight (a Linear, a convolution, a block of them); a normalization
     *     alone does not count: its scale and shift are not weights
     */
    public record Activation(String block, double rms, double ratio, double gradRms, boolean weighted) {}

    /** What went out of range. */
    public enum Kind {
        /** A loss, gradient or activation is NaN or infinite. */
        NON_FINITE,
        /** Activations grow with depth beyond the range. */
        ACTIVATIONS_GROW,
        /** Activations shrink with depth beyond the range. */
        ACTIVATIONS_SHRINK,
        /** Gradients grow towards the input beyond the range (exploding). */
        GRADIENTS_GROW,
        /** Gradients shrink towards the input beyond the range (vanishing). */
        GRADIENTS_SHRINK,
        /** The first update would be too large a part of a weight. */
        UPDATE_TOO_LARGE,
        /** The first update would be too small a part of a weight. */
        UPDATE_TOO_SMALL,
        /** The input columns have very different scales. */
        INPUT_SCALE
    }

    /**
     * One figure out of range.
     *
     * @param kind what
     * @param layer the layer or block where it shows
     * @param detail the numbers, in words
     */
    public record Finding(Kind kind, String layer, String detail) {}

    /** @return the layer named by the first finding, empty when everything is in range */
    public Optional<String> firstOutOfRange() {
        return findings.isEmpty() ? Optional.empty() : Optional.of(findings.get(0).layer());
    }

    /**
     * Depth trouble, the finding the depth fixes (re-initialization, normalization, LSUV, residual connections) answer:
     * activations or the backward signal out of range with depth, or a non-finite value.
     *
     * @return true when the report has such a finding
     */
    public boolean depthTrouble() {
        return has(Kind.ACTIVATIONS_GROW, Kind.ACTIVATIONS_SHRINK, Kind.GRADIENTS_GROW, Kind.GRADIENTS_SHRINK,
                Kind.NON_FINITE);
    }

    /**
     * @param kinds the kinds to look for
     * @return true when a finding of one of these kinds exists
     */
    public boolean has(Kind... kinds) {
        for (Finding f : findings) {
            for (Kind k : kinds) {
                if (f.kind() == k) {
                    return true;
                }
            }
        }
        return false;
    }

    /** @return true when nothing is out of range */
    public boolean healthy() {
        return findings.isEmpty();
    }

    /** @return the report as a readable table, one line a layer, then the activations and the findings */
    public String text() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Gradient flow at initialization (%d pass%s, %d ms, loss %.4g; update: %s at"
                + " lr %.3g)%n", passes, passes == 1 ? "" : "es", millis, loss, updateRule, learningRate));
        sb.append(String.format(Locale.ROOT, "%-5s %-28s %9s %11s %11s %11s %11s %11s%n", "depth", "weight", "size",
                "grad norm", "grad rms", "weight norm", "grad/weight", "update/w"));
        for (Layer l : layers) {
            sb.append(String.format(Locale.ROOT, "%-5d %-28s %9d %11.4g %11.4g %11.4g %11.4g %11.4g%n", l.depth(),
                    l.name(), l.size(), l.gradNorm(), l.gradRms(), l.weightNorm(), l.gradToWeight(), l.updateToWeight()));
        }
        sb.append(String.format(Locale.ROOT, "backward signal x%.3g per layer towards the input (x%.3g over the depth)%n",
                gradGrowthPerLayer, gradCompound));
        if (!activations.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "%-40s %11s %9s %11s%n", "activations after", "rms", "out/in",
                    "grad rms"));
            for (Activation a : activations) {
                sb.append(String.format(Locale.ROOT, "%-40s %11.4g %9.3g %11.4g%n", a.block(), a.rms(), a.ratio(),
                        a.gradRms()));
            }
            sb.append(String.format(Locale.ROOT, "activation RMS x%.3g per weight layer towards the output%n",
                    activationGrowthPerLayer));
        }
        if (!Double.isNaN(inputColumnSpread)) {
            sb.append(String.format(Locale.ROOT, "input columns' std: largest %.3gx the median%n", inputColumnSpread));
        }
        if (findings.isEmpty()) {
            sb.append("all in range\n");
        } else {
            sb.append("first out of range: ").append(findings.get(0).layer()).append('\n');
            for (Finding f : findings) {
                sb.append("  ").append(f.kind()).append(" at ").append(f.layer()).append(": ").append(f.detail())
                        .append('\n');
            }
        }
        return sb.toString();
    }

    /** @return the report as one JSON object (the {@code flow_before}/{@code flow_after} fields of the doctor's record) */
    public Json toJson() {
        List<Object> rows = new ArrayList<>();
        for (Layer l : layers) {
            rows.add(new Json().put("name", l.name()).put("block", l.block()).put("depth", l.depth())
                    .put("size", l.size()).put("grad_norm", l.gradNorm()).put("grad_rms", l.gradRms())
                    .put("weight_norm", l.weightNorm()).put("grad_to_weight", l.gradToWeight())
                    .put("update_to_weight", l.updateToWeight()).put("bias_grad_norm", l.biasGradNorm()));
        }
        List<Object> acts = new ArrayList<>();
        for (Activation a : activations) {
            acts.add(new Json().put("block", a.block()).put("rms", a.rms()).put("ratio", a.ratio())
                    .put("grad_rms", a.gradRms())
                    .put("weighted", a.weighted()));
        }
        List<Object> found = new ArrayList<>();
        for (Finding f : findings) {
            found.add(new Json().put("kind", f.kind().name().toLowerCase(Locale.ROOT)).put("layer", f.layer())
                    .put("detail", f.detail()));
        }
        return new Json().put("passes", passes).put("millis", millis).put("loss", loss)
                .put("update_rule", updateRule).put("learning_rate", learningRate)
                .put("grad_growth_per_layer", gradGrowthPerLayer).put("grad_compound", gradCompound)
                .put("activation_growth_per_layer", activationGrowthPerLayer)
                .put("input_column_spread", inputColumnSpread)
                .put("first_out_of_range", firstOutOfRange().orElse(null))
                .putAny("layers", rows).putAny("activations", acts).putAny("findings", found);
    }
}
