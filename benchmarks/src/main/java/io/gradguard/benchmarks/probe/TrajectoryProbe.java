package io.gradguard.benchmarks.probe;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.Trainer;
import ai.djl.util.Pair;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.family.FamilyGenerator;
import io.gradguard.models.family.GeneratedScenario;
import io.gradguard.models.family.Setup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Research probe: loss and gradient norm along an unguarded run, for chosen set-ups of an oracle cache. */
public final class TrajectoryProbe {
    private TrajectoryProbe() {}

    /**
     * @param args the oracle cache, then seeds
     * @throws Exception when the cache cannot be read
     */
    public static void main(String[] args) throws Exception {
        args = String.join(" ", args).trim().split("\\s+");
        Set<String> want = Set.of(java.util.Arrays.copyOfRange(args, 1, args.length));
        Set<Integer> at = Set.of(0, 1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 400, 600, 800);
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            String[] f = line.split(",");
            if (!want.contains(f[0])) {
                continue;
            }
            float lr = Float.parseFloat(f[2]);
            Setup s = FamilyGenerator.draw(Long.parseLong(f[0]));
            GeneratedScenario g = new GeneratedScenario(s).withOracle(lr);
            for (String twin : new String[] {"healthy", "exploding"}) {
                float rate = twin.equals("healthy") ? lr : (float) (lr * s.multiplier());
                List<String> out = new ArrayList<>();
                int[] step = {0};
                try (ScenarioRun run = g.open(rate); Trainer t = run.newTrainer()) {
                    run.trainByHand(t, (tr, loss) -> {
                        if (at.contains(step[0])) {
                            double sq = 0;
                            for (Pair<String, Parameter> p : tr.getModel().getBlock().getParameters()) {
                                if (p.getValue().requiresGradient()) {
                                    NDArray gr = p.getValue().getArray().getGradient();
                                    double n = gr.norm().getFloat();
                                    sq += n * n;
                                }
                            }
                            out.add(String.format(Locale.ROOT, "%d:%.3g/%.2g", step[0], loss.getFloat(), Math.sqrt(sq)));
                        }
                        step[0]++;
                        tr.step();
                    });
                    System.out.printf(Locale.ROOT, "%s %s x%.1f const=%.4g final=%.4g%n  %s%n", s.id(), twin, s.multiplier(),
                            g.constantLoss(), run.evalLoss(t), String.join(" ", out));
                }
            }
        }
    }
}
