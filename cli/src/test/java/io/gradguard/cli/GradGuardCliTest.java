package io.gradguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.Guard;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.RunInfo;
import io.gradguard.core.StepStats;
import io.gradguard.log.RunLog;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line on a log written by a real guard (core only: the zoo's engine runs are covered by the
 * adapters' tests and by .ci/run, which renders a DJL run's log).
 */
class GradGuardCliTest {

    @TempDir
    Path dir;

    /** A 300-step run with one corrupted batch (a spike) and a NaN burst (a rollback). */
    private Path log() {
        Path log = dir.resolve("run.jsonl");
        List<RunInfo.Parameter> params = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            params.add(new RunInfo.Parameter(String.format("%02dLinear_weight", i), 64));
        }
        Guard g = new Guard(GuardConfig.custom().log(log).layersEvery(10).build());
        g.begin(new RunInfo("synthetic", "cpu()", "loop", params, Map.of()));
        Random rng = new Random(3);
        for (int step = 0; step < 300; step++) {
            double[] n = new double[6];
            for (int i = 0; i < 6; i++) {
                n[i] = 0.5 * Math.exp(0.2 * rng.nextGaussian());
            }
            if (step == 120) {
                n[2] = 5e3;
            }
            if (step >= 200 && step < 205) {
                Arrays.fill(n, Double.NaN);
            }
            g.decide(StepStats.of(step, 1.0 / (1 + step * 0.01), true, n), () -> new double[6]);
        }
        g.close();
        return log;
    }

    @Test
    void reportWritesASelfContainedPageAndAPng() throws Exception {
        Path log = log();
        Path html = dir.resolve("out/report.html");
        assertThat(GradGuardCli.run("report", log.toString(), "-o", html.toString())).isZero();
        String page = Files.readString(html);
        assertThat(page).startsWith("<!DOCTYPE html>").contains("<svg").contains("Per-parameter gradient norm")
                .contains("Diagnosis").contains("Data: one-off spikes").contains("steps 120")
                .contains("rollback at step").contains("skip at step 120");
        // self-contained: nothing is fetched
        assertThat(page).doesNotContain("<script").doesNotContain("src=\"http").doesNotContain("href=\"http")
                .doesNotContain("@import");
        BufferedImage png = ImageIO.read(dir.resolve("out/report.png").toFile());
        assertThat(png.getWidth()).isEqualTo(HtmlReport.WIDTH);
        // not a blank image: the loss line's colour is in it
        boolean lossColour = false;
        for (int x = 0; x < png.getWidth() && !lossColour; x += 2) {
            for (int y = 0; y < png.getHeight(); y++) {
                if ((png.getRGB(x, y) & 0xffffff) == 0x1f77b4) {
                    lossColour = true;
                    break;
                }
            }
        }
        assertThat(lossColour).isTrue();
    }

    /** Fault suite: a log whose last line was cut (a run killed while writing) is read up to it, and the cut is reported. */
    @Test
    void aLogWithACutLastLineIsReadAndTheCutReported() throws Exception {
        Path log = log();
        byte[] whole = Files.readAllBytes(log);
        Path cut = dir.resolve("cut.jsonl");
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length - 25));
        assertThat(RunLog.read(cut).badLines()).isEqualTo(1);
        assertThat(RunLog.read(cut).steps()).hasSize(RunLog.read(log).steps().size());
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream was = System.out;
        System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertThat(GradGuardCli.run("diagnose", cut.toString())).isZero();
            assertThat(GradGuardCli.run("report", cut.toString(), "-o", dir.resolve("cut.html").toString())).isZero();
        } finally {
            System.setOut(was);
        }
        String printed = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(printed).contains("1 unreadable lines of").contains("(1 unreadable lines skipped)")
                .contains("Data: one-off spikes");
    }

    @Test
    void badInputIsNamed() throws Exception {
        assertThat(GradGuardCli.run("report", dir.resolve("missing.jsonl").toString())).isEqualTo(2);
        Path foreign = dir.resolve("foreign.jsonl");
        Files.writeString(foreign, "{\"a\":1}\n");
        assertThat(GradGuardCli.run("diagnose", foreign.toString())).isEqualTo(1);
        assertThat(GradGuardCli.run("report")).isEqualTo(2);
    }
}
