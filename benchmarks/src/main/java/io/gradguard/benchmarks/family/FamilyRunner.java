package io.gradguard.benchmarks.family;

import io.gradguard.models.family.FamilyGenerator;
import io.gradguard.models.family.GeneratedScenario;
import io.gradguard.models.family.OracleSearch;
import io.gradguard.models.family.Setup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs the DJL half of the family for some seeds: the oracle search, then each policy on the exploding
 * twin (the oracle's learning rate times the set-up's multiplier) and on the healthy twin (the oracle's
 * rate). The unguarded healthy twin is the oracle's own grid point, not trained again.
 */
public final class FamilyRunner {

    /** The twins. */
    public enum Twin {
        /** the set-up at its multiplier times the oracle learning rate */
        EXPLODING,
        /** the set-up at the oracle learning rate */
        HEALTHY;

        /** @return the CSV word */
        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final List<FamilyPolicy> policies;
    private final List<Twin> twins;
    private final Path oracleCache;
    private final Map<String, float[]> oracles = new HashMap<>();

    /**
     * @param policies the policies to run
     * @param twins the twins to run them on
     * @param oracleCache a file of known oracles (read, then appended to), or null to search every time
     */
    public FamilyRunner(List<FamilyPolicy> policies, List<Twin> twins, Path oracleCache) {
        this.policies = policies;
        this.twins = twins;
        this.oracleCache = oracleCache;
        if (oracleCache != null && Files.exists(oracleCache)) {
            try {
                for (String line : Files.readAllLines(oracleCache)) {
                    String[] f = line.split(",");
                    if (f.length >= 4) {
                        oracles.put(f[0] + "," + f[1], new float[] {Float.parseFloat(f[2]), Float.parseFloat(f[3])});
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * Runs one set-up.
     *
     * @param seed its seed
     * @return its rows
     */
    public List<FamilyRow> run(long seed) {
        Setup setup = FamilyGenerator.draw(seed);
        GeneratedScenario g0 = new GeneratedScenario(setup);
        float[] oracle = oracle(g0);
        GeneratedScenario g = g0.withOracle(oracle[0]);
        String split = FamilyGenerator.Split.of(seed) == FamilyGenerator.Split.TUNING ? "tuning" : "held-out";
        List<FamilyRow> rows = new ArrayList<>();
        for (Twin twin : twins) {
            float lr = twin == Twin.EXPLODING ? (float) (oracle[0] * setup.multiplier()) : oracle[0];
            for (FamilyPolicy p : policies) {
                Outcome o;
                if (twin == Twin.HEALTHY && p.key().equals("none")) {
                    o = new Outcome(oracle[1], false, 0, 0, 0, 1.0, 0);
                } else {
                    try {
                        o = p.run(g, lr);
                    } catch (RuntimeException e) {
                        System.err.println("  " + setup.id() + " " + twin.word() + " " + p.key() + " threw " + e);
                        o = null;
                    }
                }
                String result = o == null ? "error" : FamilyRow.classify(o.loss(), o.halted(), g.constantLoss());
                if (o == null) {
                    o = new Outcome(Float.NaN, false, 0, 0, 0, Double.NaN, 0);
                }
                rows.add(new FamilyRow(seed, split, setup.id(), setup.arch().name(), setup.optimizer().name(), "djl",
                        setup.steps(), setup.multiplier(), oracle[0], oracle[1], g.constantLoss(), twin.word(), p.key(),
                        o.loss(), result, o.interventions(), o.rollbacks(), o.redone(), o.lrScale(), o.seconds(), o.events()));
            }
        }
        return rows;
    }

    private float[] oracle(GeneratedScenario g) {
        String key = g.setup().seed() + "," + g.setup().id();
        float[] known = oracles.get(key);
        if (known != null) {
            return known;
        }
        OracleSearch.Result r = OracleSearch.search(g);
        float[] found = {r.lr(), r.loss()};
        oracles.put(key, found);
        if (oracleCache != null) {
            try {
                Files.writeString(oracleCache, String.format(Locale.ROOT, "%s,%s,%s,%s%n", key, r.lr(), r.loss(), r.gridText()),
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return found;
    }
}
