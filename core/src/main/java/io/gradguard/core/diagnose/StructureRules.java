package io.gradguard.core.diagnose;

import static io.gradguard.core.diagnose.FindingText.fmt;

import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.LayerRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Findings on the model's structure, read from the per-layer gradient norms and the parameter names:
 * {@code depth} (gradients that grow or shrink layer by layer, a deep net without normalization, residual
 * connections or depth-scaled initialization) and {@code recurrent} (a vanilla recurrent weight in a run that
 * exploded).
 */
final class StructureRules {

    /** Parameter names of recurrent (hidden-to-hidden) weights, as DJL, PyTorch and Keras name them. */
    static final Pattern RECURRENT = Pattern.compile("(?i)(h2h|_hh|hh_|recurrent|hidden_to_hidden|whh)");
    /** Parameter names of weight matrices (not biases, not norms' scales). */
    static final Pattern WEIGHT = Pattern.compile("(?i)(weight|kernel)");
    /** Parameter names of biases (their gradient is the back-propagated signal itself, summed over the batch). */
    static final Pattern BIAS = Pattern.compile("(?i)bias");
    /** A layer-to-layer trend this strong (decades from the input side to the output side) is a depth effect. */
    static final double DEPTH_DECADES = 1.0;
    /** ... and at least this share of neighbouring layers must follow it. */
    static final double DEPTH_MONOTONE = 0.75;
    /** Fewest weight matrices for the depth rule. */
    static final int DEPTH_MIN_LAYERS = 6;

    private StructureRules() {}

    /** Gradient norms of one kind of parameter of a layer record, in model order (input side first). */
    private record Profile(String kind, List<String> names, double[] log10) {}

    private static Profile profile(LayerRecord r, String kind, Pattern pattern) {
        List<String> n = new ArrayList<>();
        List<Double> v = new ArrayList<>();
        for (int i = 0; i < r.names().size() && i < r.gradNorms().length; i++) {
            String name = r.names().get(i);
            double g = r.gradNorms()[i];
            if (pattern.matcher(name).find() && !RECURRENT.matcher(name).find() && Double.isFinite(g) && g > 0) {
                n.add(name);
                v.add(Math.log10(g));
            }
        }
        return new Profile(kind, n, v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Decades from the input-side third to the output-side third, and the share of neighbours that agree. */
    private static double[] trend(double[] y) {
        int k = y.length;
        int third = Math.max(1, k / 3);
        double in = 0;
        double out = 0;
        for (int i = 0; i < third; i++) {
            in += y[i] / third;
            out += y[k - 1 - i] / third;
        }
        double decades = in - out;
        int agree = 0;
        for (int i = 0; i + 1 < k; i++) {
            if (Math.signum(y[i] - y[i + 1]) == Math.signum(decades)) {
                agree++;
            }
        }
        return new double[] {decades, agree / (double) (k - 1), agree};
    }

    static Optional<Finding> depth(RunObservations o) {
        LayerRecord r = o.first() != null ? o.originLayers() : null;
        if (r == null) {
            return Optional.empty();
        }
        Profile best = null;
        double[] bestTrend = null;
        for (Profile p : List.of(profile(r, "bias", BIAS), profile(r, "weight", WEIGHT))) {
            if (p.log10().length < DEPTH_MIN_LAYERS) {
                continue;
            }
            double[] t = trend(p.log10());
            if (Math.abs(t[0]) >= DEPTH_DECADES && t[1] >= DEPTH_MONOTONE
                    && (bestTrend == null || Math.abs(t[0]) > Math.abs(bestTrend[0]))) {
                best = p;
                bestTrend = t;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        int k = best.log10().length;
        double decades = bestTrend[0];
        double perLayer = Math.pow(10, Math.abs(decades) / Math.max(1, k - Math.max(1, k / 3)));
        boolean towardsInput = decades > 0;
        List<String> ev = new ArrayList<>();
        ev.add(String.format(Locale.ROOT, "%s gradient norms of %d layers at step %d, input side to output side: %s",
                best.kind(), k, r.step(), profileText(best)));
        ev.add(String.format(Locale.ROOT, "the input-side third averages %.0fx the output-side third%s; %d of %d"
                + " neighbouring pairs follow the trend", Math.pow(10, decades), "", (int) bestTrend[2], k - 1));
        String headline = String.format(Locale.ROOT, "Depth: %s gradient norms %s layer by layer (about %.2fx per layer"
                + " over %d layers), the signature of a deep net without normalization or residual connections%s.",
                best.kind(), towardsInput ? "grow towards the input" : "shrink towards the input", perLayer, k,
                towardsInput ? " (gradients explode on their way back)" : " (gradients vanish on their way back)");
        String advice = "add normalization (LayerNorm or BatchNorm after each linear layer), residual connections"
                + " around blocks, or depth-scaled initialization (He/Kaiming variance 2/fan-in for ReLU, no more; for"
                + " residual branches scale the last layer of each branch by 1/sqrt(2 x depth), or start it at zero as"
                + " Fixup does).";
        return Optional.of(new Finding("depth", headline, advice, ev));
    }

    private static String profileText(Profile p) {
        StringBuilder sb = new StringBuilder();
        int k = p.log10().length;
        for (int i = 0; i < k; i++) {
            if (k > 12 && i == 5) {
                sb.append(" ... ");
                i = k - 6;
            }
            sb.append(i > 0 && sb.charAt(sb.length() - 1) != ' ' ? ", " : "").append(fmt(Math.pow(10, p.log10()[i])));
        }
        return sb.toString();
    }

    static Optional<Finding> recurrent(RunObservations o) {
        GuardEvent first = o.first();
        if (first == null) {
            return Optional.empty();
        }
        String param = null;
        for (String n : o.names()) {
            if (RECURRENT.matcher(n).find() && WEIGHT.matcher(n).find()) {
                param = n;
                break;
            }
        }
        if (param == null && first.param() != null && RECURRENT.matcher(first.param()).find()) {
            param = first.param();
        }
        if (param == null) {
            return Optional.empty();
        }
        List<String> ev = new ArrayList<>();
        ev.add("the model has a recurrent weight, '" + param + "', and the run exploded (first trouble at step "
                + first.step() + ")");
        if (first.param() != null && first.param().equals(param)) {
            ev.add("the first trouble event names it");
        }
        LayerRecord r = o.originLayers();
        int idx = r == null ? -1 : r.names().indexOf(param);
        if (idx >= 0) {
            int rank = 1;
            for (double g : r.gradNorms()) {
                if (g > r.gradNorms()[idx]) {
                    rank++;
                }
            }
            ev.add("at step " + r.step() + " its gradient norm " + fmt(r.gradNorms()[idx]) + " ranks " + rank + " of "
                    + r.gradNorms().length);
        }
        LayerRecord firstLayers = o.firstLayers();
        LayerRecord last = r != null && r.weightNorms() != null ? r : o.lastAny();
        int i0 = firstLayers == null ? -1 : firstLayers.names().indexOf(param);
        int i1 = last == null ? -1 : last.names().indexOf(param);
        if (i0 >= 0 && i1 >= 0 && firstLayers.weightNorms() != null && last.weightNorms() != null && last != firstLayers) {
            double w0 = firstLayers.weightNorms()[i0];
            double w1 = last.weightNorms()[i1];
            if (w0 > 0 && Double.isFinite(w1)) {
                ev.add("its weight norm went from " + fmt(w0) + " (step " + firstLayers.step() + ") to " + fmt(w1) + " (step "
                        + last.step() + "), " + fmt(w1 / w0) + "x");
            }
        }
        LogHistogram healthy = o.healthy();
        double p95 = healthy.count() >= 20 ? healthy.quantile(0.95) : Double.NaN;
        String clipAdvice = Double.isFinite(p95) ? "clip the global gradient norm at about " + fmt(p95)
                + " (95th percentile of the healthy steps)" : "clip the global gradient norm";
        return Optional.of(new Finding("recurrent", "Recurrence: a vanilla recurrent weight ('" + param
                + "') multiplies the gradient once per time step, so long sequences explode it (Pascanu et al. 2013).",
                clipAdvice + "; use gated cells (LSTM or GRU) instead of a vanilla RNN; initialize the recurrent matrix"
                        + " orthogonally (spectral radius 1); shorten back-propagation through time if sequences are long.",
                ev));
    }
}
