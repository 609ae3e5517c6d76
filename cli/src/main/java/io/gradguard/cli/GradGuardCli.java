package io.gradguard.cli;

import io.gradguard.core.diagnose.RunDiagnosis;
import io.gradguard.log.RunLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The {@code gradguard} command line: {@code report} turns an event log into a self-contained HTML page
 * and a PNG chart (with the structure doctor's findings when given its record); {@code diagnose} prints what the log
 * says; {@code doctor} prints the structure doctor's record.
 *
 * <pre>java -jar cli/target/gradguard-cli.jar report run.jsonl -o report.html --doctor doctor.json</pre>
 *
 * <p>Exit codes: 0 done; 1 a file that could not be read as what it should be (a log, a doctor record) or could not
 * be written, with one line on standard error naming it; 2 bad usage or a missing file.
 */
@Command(name = "gradguard", mixinStandardHelpOptions = true, version = "gradguard-cli 0.1.0",
        description = "Reads a GradGuard event log (JSONL, written with log=FILE) and explains the run; reads the"
                + " structure doctor's record.",
        subcommands = {GradGuardCli.Report.class, GradGuardCli.Diagnose.class, DoctorCommand.class,
            CommandLine.HelpCommand.class})
public final class GradGuardCli implements Callable<Integer> {

    /** Creates the command. */
    public GradGuardCli() {}

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    /**
     * Entry point.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(run(args));
    }

    /**
     * Runs a command line without exiting (for tests and embedding).
     *
     * @param args the command line
     * @return the exit code: 0 done, 1 the log could not be read or written, 2 bad usage
     */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new GradGuardCli());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof IllegalArgumentException || e instanceof IllegalStateException || e instanceof IOException) {
                // a file that is not what it should be: one line that names it, no stack trace
                cmd.getErr().println("gradguard " + cmd.getCommandName() + ": " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cl.execute(args);
    }

    /**
     * Reads a doctor record for a command.
     *
     * @param spec the command, for a usage error
     * @param file the record
     * @return the record
     * @throws CommandLine.ParameterException when the file does not exist (exit code 2)
     * @throws IllegalArgumentException naming the file when it is not a doctor record (exit code 1)
     */
    static DoctorRecord readDoctor(CommandLine.Model.CommandSpec spec, Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "no such file: " + file.toAbsolutePath()
                    + " (give the JSON record the doctor wrote with Doctor.builder().record(path))");
        }
        return DoctorRecord.read(file);
    }

    static RunLog read(CommandLine.Model.CommandSpec spec, Path log) {
        if (!Files.isRegularFile(log)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "no such file: " + log.toAbsolutePath() + " (give the JSONL event log a run wrote with log=FILE)");
        }
        try {
            return RunLog.read(log);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + log + ": " + e.getMessage(), e);
        }
    }

    /** {@code gradguard report RUN.jsonl -o report.html}. */
    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Writes a self-contained HTML report (charts, per-layer heatmap, diagnosis, events) and a PNG"
                    + " of the main chart.")
    static final class Report implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "RUN.jsonl", description = "the event log")
        Path log;

        @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "report.html",
                description = "the HTML file to write (default: ${DEFAULT-VALUE})")
        Path output;

        @Option(names = "--png", paramLabel = "FILE",
                description = "the PNG of the main chart (default: the HTML file's name with .png)")
        Path png;

        @Option(names = "--no-png", description = "do not write the PNG")
        boolean noPng;

        @Option(names = "--title", paramLabel = "TEXT", description = "the page title (default: GradGuard report: <log name>)")
        String title;

        @Option(names = "--doctor", paramLabel = "RECORD.json",
                description = "the structure doctor's record: adds a Structure section (flow per layer before and after"
                        + " the chosen fix, trial curves, prescription)")
        Path doctor;

        @Override
        public Integer call() throws IOException {
            DoctorRecord record = doctor == null ? null : readDoctor(spec, doctor);
            RunLog run = read(spec, log);
            RunDiagnosis d = run.diagnose();
            String t = title != null ? title : "GradGuard report: " + log.getFileName();
            Path html = output.toAbsolutePath();
            if (html.getParent() != null) {
                Files.createDirectories(html.getParent());
            }
            Files.writeString(html, HtmlReport.html(run, d, t, record), StandardCharsets.UTF_8);
            System.out.printf("read %d steps, %d layer records, %d events from %s%s%n", run.steps().size(),
                    run.layers().size(), run.events().size(), log, run.badLines() > 0 ? " (" + run.badLines()
                            + " unreadable lines skipped)" : "");
            System.out.printf("wrote %s (%d KB)%n", html, Files.size(html) / 1024);
            if (!noPng) {
                Path p = png != null ? png.toAbsolutePath()
                        : html.resolveSibling(html.getFileName().toString().replaceFirst("\\.html?$", "") + ".png");
                ImageIO.write(HtmlReport.png(run), "png", p.toFile());
                System.out.printf("wrote %s%n", p);
            }
            if (record != null) {
                System.out.printf("with the doctor's record %s: %s%n", doctor, String.join("; ", record.prescription()));
            }
            System.out.println(d.neededHelp() ? "the run needed help: see the diagnosis in the report" : "no explosion in this run");
            return 0;
        }
    }

    /** {@code gradguard diagnose RUN.jsonl}. */
    @Command(name = "diagnose", mixinStandardHelpOptions = true,
            description = "Prints the diagnosis: where an explosion started, what made it likely, what to change.")
    static final class Diagnose implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "RUN.jsonl", description = "the event log")
        Path log;

        @Override
        public Integer call() {
            RunLog run = read(spec, log);
            if (run.badLines() > 0) {
                System.out.println("(" + run.badLines() + " unreadable lines of " + log + " skipped; a run that was"
                        + " killed leaves its last line cut)");
            }
            System.out.println(run.diagnose().text());
            return 0;
        }
    }
}
