package io.gradguard.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gradguard doctor RECORD.json [-o page.html]}: the structure doctor's record as text, and as a page. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Prints the structure doctor's record (Doctor.builder().record(path)): the prescription, the"
                + " chosen trial, the trials ranked, the budget used and the gradient flow per layer before and after"
                + " the chosen fix.")
final class DoctorCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RECORD.json", description = "the doctor's JSON record")
    Path record;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "also write a self-contained HTML page with the flow and trial charts")
    Path output;

    /** Creates the command (picocli fills its fields). */
    DoctorCommand() {}

    @Override
    public Integer call() throws IOException {
        DoctorRecord r = GradGuardCli.readDoctor(spec, record);
        System.out.print(DoctorText.of(r));
        if (output != null) {
            Path html = output.toAbsolutePath();
            if (html.getParent() != null) {
                Files.createDirectories(html.getParent());
            }
            Files.writeString(html, HtmlReport.doctorPage(r, "GradGuard doctor: " + record.getFileName()),
                    StandardCharsets.UTF_8);
            System.out.printf("wrote %s (%d KB)%n", html, Files.size(html) / 1024);
        }
        return 0;
    }
}
