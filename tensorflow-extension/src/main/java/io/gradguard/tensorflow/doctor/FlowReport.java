package io.gradguard.tensorflow.doctor;

import io.gradguard.core.internal.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What a gradient-flow check found at initialization ({@link TfFlowCheck#check}): one row per variable
 * in creation order, the trend with depth, the first variable out of range, and the check's cost.
 *
 * <p><b>The trend.</b> Two log-slopes over the weights in creation order (input to output), fitted by
 * least squares to {@code ln(norm)} against the weight's position:
 *
 * <ul>
 *   <li>{@link #weightGradLogSlope}: of the weight gradients' norms. In a plain net whose layers are all
 *       scaled by the same wrong factor this slope stays near 0 (a weight's gradient is its input, which
 *       grows with depth, times its output's gradient, which shrinks with depth by the same factor), so it
 *       is reported but not judged when the signal's slope is there;
 *   <li>{@link #signalLogSlope}: of the backpropagated signal, the gradient with respect to each weight's
 *       layer output. {@link #signalGrowth} = {@code exp(-signalLogSlope)} is the factor by which that
 *       signal grows per layer on its way back from the output to the input: about 1 in a net that passes
 *       gradients well, above 1 when they explode towards the input, below 1 when they vanish.
 * </ul>
 */
public final class FlowReport {

    private final List<VariableFlow> variables;
    private final double learningRate;
    private final TfFlowCheck check;
    private final OptionalDouble weightGradLogSlope;
    private final OptionalDouble signalLogSlope;
    private final int runs;
    private final long millis;

    FlowReport(List<VariableFlow> variables, double learningRate, TfFlowCheck check, int runs, long millis) {
        this.variables = List.copyOf(variables);
        this.learningRate = learningRate;
        this.check = check;
        this.runs = runs;
        this.millis = millis;
        List<Double> weightGrads = new ArrayList<>();
        List<Double> signals = new ArrayList<>();
        for (VariableFlow v : this.variables) {
            if (v.weight()) {
                weightGrads.add(v.gradNorm());
                signals.add(v.signalNorm().orElse(Double.NaN));
            }
        }
        this.weightGradLogSlope = logSlope(weightGrads);
        this.signalLogSlope = logSlope(signals);
    }

    /**
     * Least-squares slope of ln(y) over the positions; positions whose y is not finite and > 0 are left out.
     *
     * @param ys the values, by position
     * @return the slope; empty under 2 usable positions
     */
    public static OptionalDouble logSlope(List<Double> ys) {
        double n = 0;
        double sx = 0;
        double sy = 0;
        double sxx = 0;
        double sxy = 0;
        for (int i = 0; i < ys.size(); i++) {
            double y = ys.get(i);
            if (!(y > 0) || !Double.isFinite(y)) {
                continue;
            }
            double ly = Math.log(y);
            n++;
            sx += i;
            sy += ly;
            sxx += (double) i * i;
            sxy += i * ly;
        }
        double den = n * sxx - sx * sx;
        return n < 2 || den == 0 ? OptionalDouble.empty() : OptionalDouble.of((n * sxy - sx * sy) / den);
    }

    /** @return the rows, one per variable, in creation order */
    public List<VariableFlow> variables() {
        return variables;
    }

    /** @return the learning rate the update ratios are for */
    public double learningRate() {
        return learningRate;
    }

    /** @return the check (thresholds) that made this report */
    public TfFlowCheck check() {
        return check;
    }

    /** @return d ln(weight gradient norm) / d layer, over the weights in creation order; empty under 2 weights */
    public OptionalDouble weightGradLogSlope() {
        return weightGradLogSlope;
    }

    /** @return d ln(signal norm) / d layer, over the weights in creation order; empty under 2 signals */
    public OptionalDouble signalLogSlope() {
        return signalLogSlope;
    }

    /**
     * The per-layer growth of the gradient on its way back to the input: {@code exp(-signalLogSlope)}, or
     * {@code exp(-weightGradLogSlope)} when the graph has fewer than 2 weights with a single layer op.
     *
     * @return the growth per layer; empty under 2 weights
     */
    public OptionalDouble gradientGrowth() {
        OptionalDouble s = signalLogSlope.isPresent() ? signalLogSlope : weightGradLogSlope;
        return s.isPresent() ? OptionalDouble.of(Math.exp(-s.getAsDouble())) : OptionalDouble.empty();
    }

    /** @return why the trend is out of range ({@link TfFlowCheck#minGrowth()}, {@link TfFlowCheck#maxGrowth()}), or empty */
    public Optional<String> trendProblem() {
        OptionalDouble g = gradientGrowth();
        if (g.isEmpty()) {
            return Optional.empty();
        }
        double v = g.getAsDouble();
        String what = signalLogSlope.isPresent() ? "backpropagated signal" : "weight gradient";
        if (v > check.maxGrowth()) {
            return Optional.of(String.format(Locale.ROOT, "the %s grows %.3gx per layer towards the input, above %.3g"
                    + " (exploding gradients: weights initialized too large for the activation?)", what, v, check.maxGrowth()));
        }
        if (v < check.minGrowth()) {
            return Optional.of(String.format(Locale.ROOT, "the %s shrinks to %.3gx per layer towards the input, below %.3g"
                    + " (vanishing gradients: weights initialized too small for the activation?)", what, v, check.minGrowth()));
        }
        return Optional.empty();
    }

    /** @return the first variable in creation order that is out of range, or empty */
    public Optional<VariableFlow> firstOutOfRange() {
        return variables.stream().filter(VariableFlow::outOfRange).findFirst();
    }

    /** @return true when no variable and not the trend is out of range */
    public boolean healthy() {
        return firstOutOfRange().isEmpty() && trendProblem().isEmpty();
    }

    /** @return session runs the check made (one per batch) */
    public int runs() {
        return runs;
    }

    /** @return wall-clock milliseconds of the check, building its ops included */
    public long millis() {
        return millis;
    }

    /** @return the report as a table, then the trend, the verdict and the cost */
    public String text() {
        StringBuilder b = new StringBuilder();
        int w = 8;
        for (VariableFlow v : variables) {
            w = Math.max(w, v.name().length());
        }
        String row = "%-" + w + "s %-12s %10s %10s %10s %10s %10s %10s  %s%n";
        b.append(String.format(Locale.ROOT, row, "variable", "shape", "|grad|", "|w|", "grad/w", "lr*g/w",
                "lr*rtn/w", "signal", "verdict"));
        for (VariableFlow v : variables) {
            b.append(String.format(Locale.ROOT, row, v.name(), v.shape().toString().replace(" ", ""), num(v.gradNorm()),
                    num(v.weightNorm()), num(v.gradToWeight()), num(v.updateRatio()), num(v.signUpdateRatio()),
                    v.signalNorm().isPresent() ? num(v.signalNorm().getAsDouble()) : "-",
                    v.problem().orElse(v.weight() ? "ok" : "(not judged)")));
        }
        b.append(String.format(Locale.ROOT, "trend: weight-gradient log-slope %s, signal log-slope %s, growth per layer"
                + " towards the input %s (in range %.3g..%.3g)%n", opt(weightGradLogSlope), opt(signalLogSlope),
                opt(gradientGrowth()), check.minGrowth(), check.maxGrowth()));
        trendProblem().ifPresent(p -> b.append("trend out of range: ").append(p).append('\n'));
        b.append(firstOutOfRange().map(v -> "first out of range: " + v.name() + ": " + v.problem().orElseThrow())
                .orElse("no variable out of range")).append('\n');
        b.append(String.format(Locale.ROOT, "cost: %d runs, %d ms (lr %.3g; thresholds not tuned yet)%n", runs, millis,
                learningRate));
        return b.toString();
    }

    private static String num(double x) {
        return Numbers.significant(x, 3);
    }

    private static String opt(OptionalDouble x) {
        return x.isPresent() ? num(x.getAsDouble()) : "-";
    }

    @Override
    public String toString() {
        return "FlowReport[" + variables.size() + " variables, growth " + opt(gradientGrowth()) + ", "
                + firstOutOfRange().map(v -> "first out of range " + v.name()).orElse("none out of range") + ", "
                + runs + " runs, " + millis + " ms]";
    }
}
