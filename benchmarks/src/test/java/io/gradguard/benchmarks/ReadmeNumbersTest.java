package io.gradguard.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README quotes only numbers that {@code benchmarks/RESULTS.md} holds: every result-like number in the README's
 * "Benchmarks" section (a ratio such as {@code 1.48x}, a share such as {@code 51%}, a decimal with two or more
 * places such as {@code 1.058}) must appear in RESULTS.md, so that a benchmark re-run that changes a number makes
 * this test fail until the README follows. A ratio may appear bare in RESULTS.md ({@code 1.058} for {@code 1.058x}).
 */
class ReadmeNumbersTest {

    private static final Pattern RESULT_NUMBER = Pattern.compile("(?<![\\w.\\-])(\\d+(?:\\.\\d+)?)([x%])|(?<![\\w.\\-])(\\d+\\.\\d{2,})(?![\\w.])");

    static String section(String readme, String heading) {
        int from = readme.indexOf(heading);
        if (from < 0) {
            throw new IllegalStateException("README has no section '" + heading + "'");
        }
        int to = readme.indexOf("\n## ", from + heading.length());
        return readme.substring(from, to < 0 ? readme.length() : to);
    }

    static List<String> missing(String text, String results) {
        Set<String> tokens = new LinkedHashSet<>();
        Matcher m = RESULT_NUMBER.matcher(text);
        while (m.find()) {
            tokens.add(m.group());
        }
        List<String> out = new ArrayList<>();
        for (String t : tokens) {
            String bare = t.endsWith("x") ? t.substring(0, t.length() - 1) : t;
            boolean found = Pattern.compile("(?<![\\w.])" + Pattern.quote(t) + "(?![\\d])").matcher(results).find()
                    || t.endsWith("x") && Pattern.compile("(?<![\\w.])" + Pattern.quote(bare) + "(?![\\d.])").matcher(results).find();
            if (!found) {
                out.add(t);
            }
        }
        return out;
    }

    @Test
    void everyBenchmarkNumberInTheReadmeComesFromResults() throws IOException {
        String readme = Files.readString(Path.of("../README.md"));
        String results = Files.readString(Path.of("RESULTS.md"));
        assertThat(missing(section(readme, "## Benchmarks"), results))
                .as("numbers in the README's Benchmarks section that benchmarks/RESULTS.md does not hold").isEmpty();
    }

    @Test
    void theCheckCatchesANumberThatDrifted() {
        String results = "| auto | **1.48x** | 51% | 1.058 |";
        assertThat(missing("auto reads 1.48x, 51% and 1.058x", results)).isEmpty();
        assertThat(missing("auto reads 1.47x, 52% and 1.059", results)).containsExactly("1.47x", "52%", "1.059");
    }
}
