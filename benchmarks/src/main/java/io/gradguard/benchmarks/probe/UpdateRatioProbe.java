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

/**
 * Research probe (issue 12, "a scale-free signal from step 0"): trains each set-up of an oracle cache for
 * its first {@code k} steps, unguarded, at the oracle rate (healthy twin) and at the exploding twin's rate,
 * and prints per step the largest update-to-weight ratio {@code ||w_after - w_before|| / ||w_before||} over
 * the weight matrices, the same ratio over all parameters, and the batch loss ({@code max/global/loss}).
 * The ratio is measured on the real update, so it holds for any optimizer. Not part of the product: it
 * decides whether the ratio can tell a too-high learning rate apart from a healthy one before any
 * statistics exist. Usage: {@code UpdateRatioProbe ORACLE_CACHE.csv K} (the cache that
 * {@code FamilyBenchmark --oracles=FILE} writes).
 */
public final class UpdateRatioProbe {
    private UpdateRatioProbe() {}

    /**
     * @param args the oracle cache and the number of steps
     * @throws Exception when the cache cannot be read
     */
    public static void main(String[] args) throws Exception {
        args = String.join(" ", args).trim().split("\\s+");
        int k = Integer.parseInt(args[1]);
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            String[] f = line.split(",");
            long seed = Long.parseLong(f[0]);
            float lr = Float.parseFloat(f[2]);
            Setup s = FamilyGenerator.draw(seed);
            GeneratedScenario g = new GeneratedScenario(s).withOracle(lr);
            for (String twin : new String[] {"healthy", "exploding"}) {
                float rate = twin.equals("healthy") ? lr : (float) (lr * s.multiplier());
                List<String> out = new ArrayList<>();
                try (ScenarioRun run = g.open(rate); Trainer t = run.newTrainer()) {
                    run.trainByHand(t, (tr, loss) -> {
                        List<NDArray> before = new ArrayList<>();
                        List<Parameter> ps = new ArrayList<>();
                        for (Pair<String, Parameter> p : tr.getModel().getBlock().getParameters()) {
                            if (p.getValue().requiresGradient()) {
                                ps.add(p.getValue());
                                before.add(p.getValue().getArray().duplicate());
                            }
                        }
                        tr.step();
                        double max = 0, sumD = 0, sumW = 0;
                        for (int i = 0; i < ps.size(); i++) {
                            NDArray w0 = before.get(i);
                            double wn = w0.norm().getFloat();
                            NDArray d = ps.get(i).getArray().sub(w0);
                            double dn = d.norm().getFloat();
                            d.close();
                            w0.close();
                            sumD += dn * dn;
                            sumW += wn * wn;
                            if (ps.get(i).getArray().getShape().dimension() >= 2 && wn > 0) {
                                max = Math.max(max, dn / wn);
                            }
                        }
                        out.add(String.format(Locale.ROOT, "%.3g/%.3g/%.3g", max, Math.sqrt(sumD / sumW), loss.getFloat()));
                    }, k);
                }
                System.out.println(seed + "," + s.id() + "," + twin + "," + String.format(Locale.ROOT, "%.1f", s.multiplier()) + "," + String.join(" ", out));
            }
        }
    }
}
