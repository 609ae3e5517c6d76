package io.gradguard.benchmarks.family;

import java.util.List;
import java.util.Locale;

/**
 * One line of the per-set-up CSV: a policy's run of one twin of one set-up.
 *
 * @param seed the set-up's seed
 * @param split {@code tuning} or {@code held-out}
 * @param setup the set-up's id
 * @param arch the architecture
 * @param optimizer the optimizer
 * @param engine {@code djl} or {@code tf}
 * @param steps steps per run
 * @param multiplier the exploding twin's learning rate over the oracle's
 * @param oracleLr the oracle learning rate
 * @param oracleLoss the oracle's final loss
 * @param constantLoss the constant predictor's loss
 * @param twin {@code exploding} or {@code healthy}
 * @param policy the policy key
 * @param loss the final loss
 * @param result {@code ok}, {@code nan}, {@code halted}, {@code collapsed} (finite, at or above 0.97 of the
 *     constant predictor's loss) or {@code error}
 * @param interventions steps the policy changed
 * @param rollbacks rollbacks
 * @param redone steps a rollback threw away
 * @param lrScale the learning-rate scale at the end
 * @param seconds wall time
 * @param events GradGuard's events, {@code kind:count;...} (empty for the anchors)
 */
public record FamilyRow(long seed, String split, String setup, String arch, String optimizer, String engine, int steps,
        double multiplier, double oracleLr, double oracleLoss, double constantLoss, String twin, String policy, double loss,
        String result, long interventions, long rollbacks, long redone, double lrScale, double seconds, String events) {

    /** A finite loss at or above this fraction of the constant predictor's loss counts as a collapse. */
    public static final double COLLAPSE_FRACTION = 0.97;
    /** A set-up whose oracle ends above this fraction of the constant predictor's loss learned nothing. */
    public static final double LEARNED_FRACTION = 0.9;

    /** The CSV header. */
    public static final String HEADER = "seed,split,setup,arch,optimizer,engine,steps,multiplier,oracle_lr,oracle_loss,"
            + "constant_loss,twin,policy,loss,ratio,result,interventions,rollbacks,redone,lr_scale,seconds,events";

    /**
     * Classifies a run.
     *
     * @param loss its final loss
     * @param halted whether the policy halted it
     * @param constantLoss the constant predictor's loss
     * @return the result word
     */
    public static String classify(double loss, boolean halted, double constantLoss) {
        if (halted) {
            return "halted";
        }
        if (!Double.isFinite(loss)) {
            return "nan";
        }
        return loss >= COLLAPSE_FRACTION * constantLoss ? "collapsed" : "ok";
    }

    /**
     * Losses below this fraction of the constant predictor's count as this fraction in a ratio: both runs
     * solved the task, and 1e-5 against 1e-3 is not a 100x difference that matters.
     */
    public static final double SOLVED_FRACTION = 0.01;

    /**
     * The final loss over the oracle's, both floored at {@link #SOLVED_FRACTION} of the constant predictor's
     * loss; infinite for a failed run.
     *
     * @return the ratio
     */
    public double ratio() {
        double floor = SOLVED_FRACTION * constantLoss;
        return failed() ? Double.POSITIVE_INFINITY : Math.max(loss, floor) / Math.max(oracleLoss, floor);
    }

    /** @return true unless the run ended finite and below the constant predictor */
    public boolean failed() {
        return !result.equals("ok");
    }

    /** @return true when the set-up's oracle learned something (the set-up counts in the tables) */
    public boolean learnable() {
        return Double.isFinite(oracleLoss) && oracleLoss < LEARNED_FRACTION * constantLoss;
    }

    /** @return the CSV line */
    public String csv() {
        return String.format(Locale.ROOT, "%d,%s,%s,%s,%s,%s,%d,%.4f,%.6g,%.6g,%.6g,%s,%s,%.6g,%.4g,%s,%d,%d,%d,%.4g,%.2f,%s",
                seed, split, setup, arch, optimizer, engine, steps, multiplier, oracleLr, oracleLoss, constantLoss, twin,
                policy, loss, Double.isInfinite(ratio()) ? Double.NaN : ratio(), result, interventions, rollbacks, redone,
                lrScale, seconds, events);
    }

    /**
     * Parses a CSV line written by {@link #csv()}.
     *
     * @param line the line
     * @return the row
     */
    public static FamilyRow parse(String line) {
        String[] f = line.split(",", -1);
        if (f.length != 21 && f.length != 22) {
            throw new IllegalArgumentException("not a family row (" + f.length + " fields): " + line);
        }
        return new FamilyRow(Long.parseLong(f[0]), f[1], f[2], f[3], f[4], f[5], Integer.parseInt(f[6]),
                Double.parseDouble(f[7]), Double.parseDouble(f[8]), Double.parseDouble(f[9]), Double.parseDouble(f[10]),
                f[11], f[12], Double.parseDouble(f[13]), f[15], Long.parseLong(f[16]), Long.parseLong(f[17]),
                Long.parseLong(f[18]), Double.parseDouble(f[19]), Double.parseDouble(f[20]), f.length > 21 ? f[21] : "");
    }

    /**
     * @param rows rows
     * @return their CSV, with the header
     */
    public static String csv(List<FamilyRow> rows) {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        rows.forEach(r -> sb.append(r.csv()).append('\n'));
        return sb.toString();
    }
}
