package io.gradguard.agent;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Measures the agent's two costs, side by side in one run, interleaved (A B A B ...) so that machine
 * noise hits both sides alike: (1) time added to JVM start, as the wall time of a small DJL app (start,
 * build a trainer, one step) with and without {@code -javaagent}; (2) per-step time of the agent against
 * the same guard wired in as a listener, on a healthy deep MLP. Not a test: run it with
 *
 * <pre>./mvnw -q -B install -DskipTests &amp;&amp; ./mvnw -q -B -pl agent exec:exec -Dexec.classpathScope=test \
 *     -Dexec.executable=java "-Dexec.args=-Dai.djl.offline=true -cp %classpath io.gradguard.agent.AgentBenchmark 7 600 ../benchmarks/RESULTS.md"</pre>
 */
public final class AgentBenchmark {

    private AgentBenchmark() {}

    /**
     * Entry point.
     *
     * @param args optional: rounds (default 7), steps per step-time run (default 600), and a Markdown file
     *     whose "## Agent" section is replaced with the result
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 600;
        System.setProperty("gradguard.agent.jar", Path.of("target/gradguard-agent.jar").toAbsolutePath().toString());
        Path apps = ChildJvm.compileApps(Files.createTempDirectory("apps"));

        // Each round runs both sides back to back, in alternating order (A B, B A, ...); the reported
        // figure is the median over rounds of the per-round difference or ratio.
        List<Double> added = new ArrayList<>();
        List<Double> bare = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            double b;
            double a;
            if (r % 2 == 0) {
                b = wall(() -> ChildJvm.run(apps, true, false, null, "StartupApp"));
                a = wall(() -> ChildJvm.run(apps, true, false, "", "StartupApp"));
            } else {
                a = wall(() -> ChildJvm.run(apps, true, false, "", "StartupApp"));
                b = wall(() -> ChildJvm.run(apps, true, false, null, "StartupApp"));
            }
            bare.add(b);
            added.add(a - b);
            System.err.printf(Locale.ROOT, "startup round %d/%d: %.0f ms vs %.0f ms%n", r + 1, rounds, a, b);
        }
        List<Double> agentOverListener = new ArrayList<>();
        List<Double> listenerOverBare = new ArrayList<>();
        String scenario = "deep-mlp-sgd-momentum-lr5x";
        for (int r = 0; r < rounds; r++) {
            double l;
            double g;
            double u;
            if (r % 2 == 0) {
                l = median(ChildJvm.run(apps, true, true, null, "StepTimeApp", scenario, "" + steps, "listener"));
                g = median(ChildJvm.run(apps, true, false, "", "StepTimeApp", scenario, "" + steps));
                u = median(ChildJvm.run(apps, true, false, null, "StepTimeApp", scenario, "" + steps));
            } else {
                u = median(ChildJvm.run(apps, true, false, null, "StepTimeApp", scenario, "" + steps));
                g = median(ChildJvm.run(apps, true, false, "", "StepTimeApp", scenario, "" + steps));
                l = median(ChildJvm.run(apps, true, true, null, "StepTimeApp", scenario, "" + steps, "listener"));
            }
            agentOverListener.add(g / l);
            listenerOverBare.add(l / u);
            System.err.printf(Locale.ROOT, "step-time round %d/%d: unguarded %.0f us, listener %.0f us, agent %.0f us%n",
                    r + 1, rounds, u, l, g);
        }
        String start = String.format(Locale.ROOT, "JVM start + 1 DJL step (%d paired rounds): without agent %.0f ms (median);"
                + " added by the agent %.0f ms (median of paired differences)", rounds, med(bare), med(added));
        String step = String.format(Locale.ROOT, "step time, healthy deep MLP (`%s`, reference rate), %d steps per run,"
                + " %d paired rounds: agent/listener = %.3f, listener/unguarded = %.3f (medians of per-round ratios)",
                scenario, steps, rounds, med(agentOverListener), med(listenerOverBare));
        System.out.println(start);
        System.out.println(step);
        if (args.length > 2) {
            Path file = Path.of(args[2]);
            String text = Files.exists(file) ? Files.readString(file) : "";
            String section = "## Agent\n\nMachine: " + Runtime.getRuntime().availableProcessors() + " cores, Java "
                    + System.getProperty("java.version") + ". Date: " + java.time.LocalDate.now() + ".\nCommand: `./mvnw -q -B"
                    + " install -DskipTests && ./mvnw -q -B -pl agent exec:exec -Dexec.classpathScope=test -Dexec.executable=java"
                    + " \"-Dexec.args=-Dai.djl.offline=true -cp %classpath io.gradguard.agent.AgentBenchmark " + rounds + " " + steps
                    + " ../benchmarks/RESULTS.md\"`\n\n- " + start + ".\n- " + step + ".\n";
            int at = text.indexOf("## Agent\n");
            if (at < 0) {
                text = text + (text.endsWith("\n") ? "" : "\n") + "\n" + section;
            } else {
                int next = text.indexOf("\n## ", at + 3);
                text = text.substring(0, at) + section + (next < 0 ? "" : text.substring(next));
            }
            Files.writeString(file, text);
        }
    }

    private interface Launch {
        ChildJvm.Run go();
    }

    private static double wall(Launch launch) {
        long t0 = System.nanoTime();
        ChildJvm.Run r = launch.go();
        if (!r.out().contains("DONE")) {
            throw new IllegalStateException(r.describe());
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double median(ChildJvm.Run r) {
        return r.out().lines().filter(l -> l.startsWith("MEDIAN_US ")).map(l -> Double.parseDouble(l.substring(10)))
                .findFirst().orElseThrow(() -> new IllegalStateException(r.describe()));
    }

    private static double med(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }
}
