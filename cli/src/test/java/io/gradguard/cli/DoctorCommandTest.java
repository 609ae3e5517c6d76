package io.gradguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.training.Trainer;
import io.gradguard.core.GuardConfig;
import io.gradguard.djl.GradGuardDivergedException;
import io.gradguard.djl.GradGuardListener;
import io.gradguard.djl.doctor.DoctorResult;
import io.gradguard.djl.doctor.Trial;
import io.gradguard.models.BadInitScenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gradguard doctor} and the report's Structure section on a real record: the doctor run on the zoo's bad
 * initialization (exploding variant) on the PyTorch engine, and the guarded run of the same model that halts.
 */
class DoctorCommandTest {

    @TempDir
    Path dir;

    /** What a command printed on standard output and standard error, and its exit code. */
    record Ran(int code, String out, String err) {}

    static Ran cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream wasOut = System.out;
        PrintStream wasErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = GradGuardCli.run(args);
        } finally {
            System.setOut(wasOut);
            System.setErr(wasErr);
        }
        return new Ran(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void printsThePrescriptionTheRankingTheBudgetAndTheFlowBeforeAndAfter() throws Exception {
        Path record = dir.resolve("doctor.json");
        DoctorResult r = DoctorRecords.badInit(record);
        Ran ran = cli("doctor", record.toString());
        System.out.println(ran.out());
        assertThat(ran.code()).as(ran.err()).isZero();
        String out = ran.out();
        assertThat(r.noChangeNeeded()).isFalse();
        for (String line : r.prescription()) {
            assertThat(out).contains("  " + line + "\n");
        }
        assertThat(out).contains("Chosen trial: " + r.chosen().name() + " (fixes: " + String.join(", ",
                r.chosen().fixes()));
        // the ranking, best first, each with its final loss or its divergence
        int at = out.indexOf("Trials, best first");
        for (int k = 0; k < r.trials().size(); k++) {
            Trial t = r.trials().get(k);
            Matcher m = Pattern.compile("\\n[* ] " + (k + 1) + " +" + Pattern.quote(t.name()) + " +\\S+ +(.*)\\n")
                    .matcher(out);
            assertThat(m.find(at)).as("row of %s", t.name()).isTrue();
            assertThat(m.start()).as("%s after the one before", t.name()).isGreaterThan(at);
            at = m.start();
            String end = m.group(1);
            if (t.finite()) {
                assertThat(Double.parseDouble(end)).isCloseTo(t.finalLoss(), org.assertj.core.data.Offset.offset(
                        1e-3 * Math.abs(t.finalLoss())));
            } else {
                assertThat(end).startsWith("diverged (step " + t.losses().size() + ")");
            }
        }
        assertThat(out).containsPattern("\\n\\* +\\d+ +" + Pattern.quote(r.chosen().name()) + " ");
        assertThat(out).contains("Budget: " + r.trialSteps() + " trial steps (" + r.trials().size() + " trials x "
                + r.stepsPerTrial() + ") of 60 allowed, 300 planned; range test " + r.lrRange().learningRates().size()
                + " steps; 2 flow passes; " + r.millis() + " ms");
        // the flow table: every weight layer, before and after
        for (var layer : r.flowBefore().layers()) {
            assertThat(out).containsPattern("\\n  " + layer.name() + " +" + Pattern.quote(DoctorText.num(layer.gradNorm()))
                    + " +\\S+ +\\S+ +\\S+\\n");
        }
        assertThat(out).contains("before: backward signal x" + DoctorText.num(r.flowBefore().gradGrowthPerLayer())
                + " per layer").contains("first out of range " + r.flowBefore().firstOutOfRange().orElseThrow());
        assertThat(out).contains("after : backward signal x" + DoctorText.num(r.flowAfter().gradGrowthPerLayer())
                + " per layer").containsPattern("after : .*; all in range\\n");
    }

    @Test
    void writesASelfContainedPageWithBothCharts() throws Exception {
        Path record = dir.resolve("doctor.json");
        DoctorResult r = DoctorRecords.badInit(record);
        Path html = dir.resolve("out/doctor.html");
        Ran ran = cli("doctor", record.toString(), "-o", html.toString());
        assertThat(ran.code()).as(ran.err()).isZero();
        assertThat(ran.out()).contains("wrote " + html);
        String page = Files.readString(html);
        assertStructureSection(page, r);
    }

    @Test
    void theReportOfTheSettledRunGetsAStructureSection() throws Exception {
        Path record = dir.resolve("doctor.json");
        DoctorResult r = DoctorRecords.badInit(record);
        Path log = dir.resolve("bad-init.jsonl");
        try (GradGuardListener guard = new GradGuardListener(GuardConfig.custom().log(log).build());
                ScenarioRun run = new BadInitScenario().open(Variant.EXPLODING); Trainer t = run.newTrainer(guard)) {
            run.fit(t);
        } catch (GradGuardDivergedException e) {
            // after settling, a non-finite streak still halts (whether it comes depends on the thread count)
        }
        assertThat(Files.readString(log)).as("the guard spends its rollback budget on the unfixed run and settles")
                .contains("\"spent\":true");
        Path html = dir.resolve("report.html");
        Ran ran = cli("report", log.toString(), "-o", html.toString(), "--no-png", "--doctor", record.toString());
        assertThat(ran.code()).as(ran.err()).isZero();
        assertThat(ran.out()).contains("with the doctor's record").contains(r.prescription().get(0));
        String page = Files.readString(html);
        assertThat(page).contains("<h2>Diagnosis</h2>").contains("<h2>Training curves</h2>");
        assertStructureSection(page, r);
        // without the option, no section
        Ran plain = cli("report", log.toString(), "-o", dir.resolve("plain.html").toString(), "--no-png");
        assertThat(plain.code()).isZero();
        assertThat(Files.readString(dir.resolve("plain.html"))).doesNotContain("id=\"structure\"");
    }

    /** The prescription, the flow chart with every layer before and after, one curve per trial, nothing fetched. */
    private static void assertStructureSection(String page, DoctorResult r) {
        assertThat(page).startsWith("<!DOCTYPE html>").contains("<h2 id=\"structure\">Structure</h2>");
        for (String line : r.prescription()) {
            assertThat(page).contains("<p>" + Html.escape(line) + "</p>");
        }
        String flow = between(page, "<h3>Gradient flow per layer</h3>", "</svg>");
        int layers = r.flowBefore().layers().size();
        assertThat(count(flow, "<circle [^>]*fill=\"" + DoctorCharts.BEFORE + "\"")).isEqualTo(layers);
        assertThat(count(flow, "<circle [^>]*fill=\"" + DoctorCharts.AFTER + "\"")).isEqualTo(layers);
        assertThat(flow).contains("before and after " + r.chosen().name())
                .contains("x" + DoctorText.num(r.flowBefore().gradCompound()) + " over the depth");
        String trials = between(page, "<h3>Trials</h3>", "</svg>");
        // every trial is drawn in its colour (a line, or a dot for a single finite step) and named in the legend; the
        // chosen one thick, in the "after" colour
        assertThat(count(trials, "<polyline fill=\"none\" stroke=\"" + DoctorCharts.AFTER + "\" stroke-width=\"3.0\""))
                .isEqualTo(1);
        for (int k = 0; k < r.trials().size(); k++) {
            Trial t = r.trials().get(k);
            assertThat(trials).contains((k + 1) + ". " + t.name() + ", lr ");
            if (!t.name().equals(r.chosen().name())) {
                String colour = DoctorCharts.PALETTE[k % DoctorCharts.PALETTE.length];
                assertThat(count(trials, "<(polyline fill=\"none\" stroke|circle [^>]*fill)=\"" + colour + "\""))
                        .as("%s drawn", t.name()).isPositive();
            }
        }
        long diverged = r.trials().stream().filter(Trial::diverged).count();
        assertThat(count(trials, "loss (NaN|Infinity|-Infinity) at step")).isEqualTo((int) diverged);
        assertThat(page).doesNotContain("<script").doesNotContain("src=\"http").doesNotContain("href=\"http")
                .doesNotContain("@import").doesNotContain("<img");
    }

    @Test
    void aForeignOrMissingRecordIsNamed() throws Exception {
        Path foreign = dir.resolve("foreign.json");
        Files.writeString(foreign, "{\"type\":\"header\",\"version\":1}\n");
        Ran ran = cli("doctor", foreign.toString());
        assertThat(ran.code()).isEqualTo(1);
        assertThat(ran.err()).contains(foreign.toString()).contains("is not a GradGuard doctor record")
                .contains("\"header\"").doesNotContain("\tat ");
        Path text = dir.resolve("notes.json");
        Files.writeString(text, "not json at all");
        assertThat(cli("doctor", text.toString()).err()).contains(text.toString()).contains("not one JSON object");
        Ran missing = cli("doctor", dir.resolve("missing.json").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("no such file").contains("missing.json");
        assertThat(cli("doctor").code()).isEqualTo(2);
        Path log = dir.resolve("run.jsonl");
        Files.writeString(log, "{\"type\":\"header\",\"version\":1}\n");
        Ran report = cli("report", log.toString(), "--doctor", foreign.toString());
        assertThat(report.code()).isEqualTo(1);
        assertThat(report.err()).contains(foreign.toString());
    }

    private static String between(String s, String from, String to) {
        int a = s.indexOf(from);
        assertThat(a).as("%s in the page", from).isNotNegative();
        return s.substring(a, s.indexOf(to, a));
    }

    private static int count(String s, String regex) {
        Matcher m = Pattern.compile(regex).matcher(s);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
