package io.gradguard.djl.doctor;

import io.gradguard.djl.doctor.FlowReport.Activation;
import io.gradguard.djl.doctor.FlowReport.Finding;
import io.gradguard.djl.doctor.FlowReport.Kind;
import io.gradguard.djl.doctor.FlowReport.Layer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Turns a flow check's figures into trends and findings, by the ranges documented on {@link FlowReport}. */
final class FlowJudge {

    private FlowJudge() {}

    static FlowReport judge(List<Layer> layers, List<Activation> activations, double spread, double loss, String rule,
            double lr, int passes, long millis) {
        List<Finding> out = new ArrayList<>();
        nonFinite(layers, activations, loss, out);
        if (spread > FlowReport.INPUT_SPREAD_MAX) {
            out.add(new Finding(Kind.INPUT_SCALE, "input", String.format(Locale.ROOT,
                    "the largest input column's standard deviation is %.3gx the median column's (range: at most %.3gx)",
                    spread, FlowReport.INPUT_SPREAD_MAX)));
        }
        List<Activation> weighted = activations.stream().filter(Activation::weighted).toList();
        double[] actLog = new double[weighted.size()];
        for (int i = 0; i < actLog.length; i++) {
            actLog[i] = Math.log(weighted.get(i).rms());
        }
        double actGrowth = Math.exp(slope(actLog));
        activationFindings(weighted, actGrowth, out);
        // the backward signal: the gradient at each weight layer's output where it was probed, else the weights'
        List<String> where = new ArrayList<>();
        List<Double> signal = new ArrayList<>();
        if (weighted.size() >= 3) {
            weighted.forEach(a -> {
                where.add(a.block());
                signal.add(a.gradRms());
            });
        } else {
            layers.forEach(l -> {
                where.add(l.name());
                signal.add(l.gradRms());
            });
        }
        double[] gradLog = new double[signal.size()];
        for (int i = 0; i < gradLog.length; i++) {
            gradLog[i] = Math.log(signal.get(i));
        }
        double gradGrowth = Math.exp(-slope(gradLog));
        double gradCompound = Math.pow(gradGrowth, Math.max(0, signal.size() - 1));
        gradientFindings(where, gradGrowth, out);
        updateFindings(layers, out);
        return new FlowReport(List.copyOf(layers), List.copyOf(activations), gradGrowth, gradCompound, actGrowth, spread,
                loss, rule, lr, List.copyOf(out), passes, millis);
    }

    private static void nonFinite(List<Layer> layers, List<Activation> activations, double loss, List<Finding> out) {
        for (Activation a : activations) {
            if (!Double.isFinite(a.rms())) {
                out.add(new Finding(Kind.NON_FINITE, a.block(), "activation RMS is " + a.rms()));
                return;
            }
        }
        for (Layer l : layers) {
            if (!Double.isFinite(l.gradNorm()) || !Double.isFinite(l.weightNorm())) {
                out.add(new Finding(Kind.NON_FINITE, l.name(), "gradient norm " + l.gradNorm() + ", weight norm "
                        + l.weightNorm()));
                return;
            }
        }
        if (!Double.isFinite(loss)) {
            out.add(new Finding(Kind.NON_FINITE, "loss", "loss is " + loss));
        }
    }

    private static void activationFindings(List<Activation> weighted, double growth, List<Finding> out) {
        int k = weighted.size();
        if (k < 3 || !Double.isFinite(growth)) {
            return;
        }
        double compound = Math.pow(growth, k - 1);
        if (compound > FlowReport.COMPOUND_MAX || compound < FlowReport.COMPOUND_MIN) {
            boolean grow = compound > 1;
            int at = k - 1;
            for (int i = 1; i < k; i++) {
                double c = Math.pow(growth, i);
                if (c > FlowReport.COMPOUND_MAX || c < FlowReport.COMPOUND_MIN) {
                    at = i;
                    break;
                }
            }
            out.add(new Finding(grow ? Kind.ACTIVATIONS_GROW : Kind.ACTIVATIONS_SHRINK, weighted.get(at).block(),
                    String.format(Locale.ROOT, "activation RMS x%.3g per weight layer, x%.3g over %d layers (range: "
                            + "[%.3g, %.3g] over the depth); it leaves the range here", growth, compound, k,
                            FlowReport.COMPOUND_MIN, FlowReport.COMPOUND_MAX)));
            return;
        }
        // the output layer's own scale is matched to the targets by training: its step is not judged
        for (int i = 1; i < k - 1; i++) {
            double r = weighted.get(i).rms() / weighted.get(i - 1).rms();
            if (r > FlowReport.STEP_MAX || r < FlowReport.STEP_MIN) {
                out.add(new Finding(r > 1 ? Kind.ACTIVATIONS_GROW : Kind.ACTIVATIONS_SHRINK, weighted.get(i).block(),
                        String.format(Locale.ROOT, "activation RMS x%.3g from the previous weight layer (range: [%.3g,"
                                + " %.3g])", r, FlowReport.STEP_MIN, FlowReport.STEP_MAX)));
                return;
            }
        }
    }

    private static void gradientFindings(List<String> layers, double growth, List<Finding> out) {
        int k = layers.size();
        if (k < 3 || !Double.isFinite(growth)) {
            return;
        }
        double compound = Math.pow(growth, k - 1);
        if (compound > FlowReport.COMPOUND_MAX || compound < FlowReport.COMPOUND_MIN) {
            int at = k - 2;
            for (int i = k - 2; i >= 0; i--) {
                double c = Math.pow(growth, k - 1 - i);
                if (c > FlowReport.COMPOUND_MAX || c < FlowReport.COMPOUND_MIN) {
                    at = i;
                    break;
                }
            }
            out.add(new Finding(growth > 1 ? Kind.GRADIENTS_GROW : Kind.GRADIENTS_SHRINK, layers.get(at),
                    String.format(Locale.ROOT, "backward signal x%.3g per layer towards the input, x%.3g over %d layers"
                            + " (range: [%.3g, %.3g] over the depth); it leaves the range here",
                            growth, compound, k, FlowReport.COMPOUND_MIN, FlowReport.COMPOUND_MAX)));
        }
    }

    private static void updateFindings(List<Layer> layers, List<Finding> out) {
        for (boolean large : new boolean[] {true, false}) {
            int count = 0;
            Layer first = null;
            for (Layer l : layers) {
                double u = l.updateToWeight();
                if (large ? u > FlowReport.UPDATE_MAX : u < FlowReport.UPDATE_MIN) {
                    count++;
                    first = first == null ? l : first;
                }
            }
            if (first != null) {
                out.add(new Finding(large ? Kind.UPDATE_TOO_LARGE : Kind.UPDATE_TOO_SMALL, first.name(),
                        String.format(Locale.ROOT, "first update %.3g of the weight's norm (range: [%.3g, %.3g]); %d"
                                + " of %d weights out of range", first.updateToWeight(), FlowReport.UPDATE_MIN,
                                FlowReport.UPDATE_MAX, count, layers.size())));
            }
        }
    }

    /** Least-squares slope of y against its index; NaN with fewer than 3 points or a non-finite value. */
    static double slope(double[] y) {
        int n = y.length;
        if (n < 3) {
            return Double.NaN;
        }
        double mx = (n - 1) / 2.0;
        double my = 0;
        for (double v : y) {
            my += v / n;
        }
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < n; i++) {
            sxy += (i - mx) * (y[i] - my);
            sxx += (i - mx) * (i - mx);
        }
        return sxy / sxx;
    }
}
