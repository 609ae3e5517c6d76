package io.gradguard.cli;

import java.util.Locale;

/** The doctor's record as text: what {@code gradguard doctor RECORD.json} prints. */
final class DoctorText {

    private DoctorText() {}

    /**
     * @param r a record
     * @return the prescription, the chosen trial, the ranking, the budget and the flow table, as lines
     */
    static String of(DoctorRecord r) {
        StringBuilder sb = new StringBuilder();
        sb.append("Prescription").append(r.noChangeNeeded() ? " (no change needed)" : "").append(":\n");
        r.prescription().forEach(l -> sb.append("  ").append(l).append('\n'));
        DoctorRecord.Trial c = r.chosen();
        sb.append(String.format(Locale.ROOT, "Chosen trial: %s (fixes: %s; lr %s, yours %s)%n", c.name(),
                c.fixes().isEmpty() ? "none" : String.join(", ", c.fixes()), num(c.learningRate()),
                num(r.learningRate())));
        DoctorRecord.Budget b = r.budget();
        sb.append(String.format(Locale.ROOT, "Trials, best first (%d x %d steps):%n", b.trials(), b.stepsPerTrial()));
        sb.append(String.format(Locale.ROOT, "  %-4s %-28s %-10s %s%n", "rank", "trial", "lr", "final loss"));
        for (DoctorRecord.Trial t : r.trials()) {
            String end = t.diverged() ? "diverged (step " + t.losses().length + ")" : num(t.finalLoss());
            sb.append(String.format(Locale.ROOT, "%s %-4d %-28s %-10s %s%n", t.name().equals(c.name()) ? "*" : " ",
                    t.rank(), t.name(), num(t.learningRate()), end));
        }
        sb.append(String.format(Locale.ROOT, "Budget: %d trial steps (%d trials x %d) of %d allowed, %d planned;"
                + " range test %d steps; %d flow passes; %d ms%n", b.trialSteps(), b.trials(), b.stepsPerTrial(),
                b.budgetSteps(), b.plannedSteps(), b.lrFinderSteps(), b.flowPasses(), b.millis()));
        flowTable(sb, r);
        return sb.toString();
    }

    /** Per weight layer, input side first: gradient norm and backward signal, before and after the chosen fix. */
    private static void flowTable(StringBuilder sb, DoctorRecord r) {
        DoctorRecord.Flow before = r.before();
        DoctorRecord.Flow after = r.after();
        boolean signal = before.hasSignal() && after.hasSignal();
        sb.append("Gradient flow per weight layer, input side first (before: the model as it is; after: ")
                .append(r.chosen().name()).append("):\n");
        sb.append(String.format(Locale.ROOT, "  %-24s %11s %11s%s%n", "layer", "grad before", "grad after",
                signal ? String.format(Locale.ROOT, " %14s %14s", "signal before", "signal after") : ""));
        int n = Math.max(before.layers().size(), after.layers().size());
        for (int i = 0; i < n; i++) {
            DoctorRecord.Layer lb = i < before.layers().size() ? before.layers().get(i) : null;
            DoctorRecord.Layer la = i < after.layers().size() ? after.layers().get(i) : null;
            String name = lb != null ? lb.name() : la.name();
            sb.append(String.format(Locale.ROOT, "  %-24s %11s %11s", name.length() > 24 ? name.substring(0, 23) + "~"
                    : name, lb == null ? "-" : num(lb.gradNorm()), la == null ? "-" : num(la.gradNorm())));
            if (signal) {
                sb.append(String.format(Locale.ROOT, " %14s %14s", i < before.signal().length ? num(before.signal()[i])
                        : "-", i < after.signal().length ? num(after.signal()[i]) : "-"));
            }
            sb.append('\n');
        }
        sb.append("  (grad: the weight gradient's L2 norm").append(signal ? "; signal: the RMS of the loss's gradient at"
                + " the layer's output, the backward signal" : "").append(")\n");
        summary(sb, "before", before);
        summary(sb, "after ", after);
    }

    private static void summary(StringBuilder sb, String label, DoctorRecord.Flow f) {
        sb.append(String.format(Locale.ROOT, "  %s: backward signal x%s per layer towards the input (x%s over the depth);"
                + " %s%n", label, num(f.gradGrowthPerLayer()), num(f.gradCompound()), f.firstOutOfRange() == null
                ? "all in range" : "first out of range " + f.firstOutOfRange() + " (" + f.findings().size() + " finding"
                        + (f.findings().size() == 1 ? ")" : "s)")));
    }

    /** @return a number in 4 significant digits ({@code NaN}, {@code Infinity} as such) */
    static String num(double v) {
        if (!Double.isFinite(v)) {
            return Double.toString(v);
        }
        return String.format(Locale.ROOT, "%.4g", v).replaceFirst("(\\.\\d*?)0+($|e)", "$1$2").replaceFirst("\\.($|e)",
                "$1");
    }
}
