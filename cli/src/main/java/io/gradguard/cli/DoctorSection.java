package io.gradguard.cli;

import java.util.Locale;

/**
 * The report's "Structure" section, from the structure doctor's record: the prescription, the chosen trial and the
 * cost, the gradient flow per layer before and after the chosen fix, the trial curves and the ranking (inline SVG).
 */
final class DoctorSection {

    /** The section's CSS, added to the page's style sheet. */
    static final String CSS = ".prescription{border-left:4px solid #2ca02c;padding:6px 12px;margin:10px 0;background:#fafafa}\n"
            + ".prescription p{margin:4px 0}table.trials{border-collapse:collapse;font-size:13px}\n"
            + "table.trials td,table.trials th{border-bottom:1px solid #eee;padding:3px 10px;text-align:left}\n"
            + "table.trials tr.chosen{font-weight:bold;color:#2ca02c}\n";

    private DoctorSection() {}

    /**
     * Appends the section.
     *
     * @param sb the page
     * @param r the doctor's record
     */
    static void append(StringBuilder sb, DoctorRecord r) {
        sb.append("<h2 id=\"structure\">Structure</h2>\n");
        sb.append("<p>The structure doctor (").append(Html.escape(r.source().getFileName().toString()))
                .append(") measured the gradient flow at initialization and compared short trials from the same seed"
                        + " on the same batches.</p>\n");
        sb.append("<div class=\"prescription\"><p><b>Prescription").append(r.noChangeNeeded() ? " (no change needed)" : "")
                .append("</b></p>\n");
        for (String line : r.prescription()) {
            sb.append("<p>").append(Html.escape(line)).append("</p>\n");
        }
        DoctorRecord.Trial c = r.chosen();
        DoctorRecord.Budget b = r.budget();
        sb.append("<p class=\"evidence\">").append(Html.escape(String.format(Locale.ROOT, "Chosen trial: %s (fixes: %s;"
                + " lr %s, yours %s). Cost: %d trial steps (%d trials x %d) of %d allowed, %d planned; range test %d"
                + " steps; %d flow passes; %d ms.", c.name(), c.fixes().isEmpty() ? "none" : String.join(", ", c.fixes()),
                DoctorText.num(c.learningRate()), DoctorText.num(r.learningRate()), b.trialSteps(), b.trials(),
                b.stepsPerTrial(), b.budgetSteps(), b.plannedSteps(), b.lrFinderSteps(), b.flowPasses(), b.millis())))
                .append("</p></div>\n");
        SvgCanvas flow = new SvgCanvas(HtmlReport.WIDTH, DoctorCharts.flowHeight(),
                "gradient flow per layer before and after the chosen fix");
        DoctorCharts.flow(flow, HtmlReport.WIDTH, r);
        sb.append("<h3>Gradient flow per layer</h3>\n").append(flow.finish());
        SvgCanvas trials = new SvgCanvas(HtmlReport.WIDTH, DoctorCharts.trialsHeight(r), "loss per trial step, one line per trial");
        DoctorCharts.trials(trials, HtmlReport.WIDTH, r);
        sb.append("<h3>Trials</h3>\n").append(trials.finish());
        sb.append("<table class=\"trials\"><tr><th>rank</th><th>trial</th><th>fixes</th><th>learning rate</th>"
                + "<th>steps</th><th>final loss</th></tr>\n");
        for (DoctorRecord.Trial t : r.trials()) {
            sb.append("<tr").append(t.name().equals(c.name()) ? " class=\"chosen\"" : "").append("><td>").append(t.rank())
                    .append("</td><td>").append(Html.escape(t.name())).append("</td><td>")
                    .append(Html.escape(String.join(", ", t.fixes()))).append("</td><td>")
                    .append(DoctorText.num(t.learningRate())).append("</td><td>").append(t.losses().length)
                    .append("</td><td>").append(t.diverged() ? "diverged" : DoctorText.num(t.finalLoss()))
                    .append("</td></tr>\n");
        }
        sb.append("</table>\n");
        findings(sb, "Out of range before", r.before());
        findings(sb, "Out of range after " + c.name(), r.after());
    }

    private static void findings(StringBuilder sb, String title, DoctorRecord.Flow f) {
        sb.append("<p class=\"evidence\"><b>").append(Html.escape(title)).append(":</b> ");
        if (f.findings().isEmpty()) {
            sb.append("nothing (all in range).</p>\n");
            return;
        }
        sb.append("</p>\n<ul class=\"evidence\">\n");
        for (String line : f.findings()) {
            sb.append("<li>").append(Html.escape(line)).append("</li>\n");
        }
        sb.append("</ul>\n");
    }
}
