package io.gradguard.benchmarks;

import io.gradguard.djl.doctor.Doctor;
import io.gradguard.djl.doctor.DoctorResult;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.family.FamilyGenerator;
import io.gradguard.models.family.GeneratedScenario;
import io.gradguard.models.family.Setup;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Generated structural cases for the structure doctor (issue 14): set-ups of the generated family, drawn from a split's
 * seeds, turned into one of three structural faults, each with its best known fix:
 * <ul>
 *   <li>{@code bad-init}: a 12-layer plain ReLU MLP with LeCun initialization (half He's variance: the signal halves
 *       every layer or so); best known fix: the same net with He initialization;</li>
 *   <li>{@code no-norm}: an 8-block residual MLP without normalization; best known fix: the same with pre-LayerNorm;</li>
 *   <li>{@code vanilla-rnn}: a vanilla tanh RNN on sequences of at least 16 steps; best known fix: a GRU of the same
 *       sizes.</li>
 * </ul>
 * Everything else (width, activation where free, optimizer, batch, schedule, task, length of the run) comes from the
 * drawn set-up. All three variants train at the optimizer's nominal learning rate for the set-up's steps.
 */
final class StructuralCases {

    private StructuralCases() {}

    /**
     * One case's outcome.
     *
     * @param kind the fault
     * @param setup the set-up's id
     * @param best the best known fix's loss
     * @param unfixed the unfixed model's loss
     * @param doctor the loss with the doctor's prescription followed
     * @param prescription the chosen trial's name, or "no change"
     * @param lines the prescription's lines, as the doctor wrote them
     */
    record Row(String kind, String setup, float best, float unfixed, float doctor, String prescription, List<String> lines) {

        /** @return the doctor's loss over the best known fix's; NaN when either is not finite */
        double ratio() {
            return Float.isFinite(doctor) && Float.isFinite(best) && best > 0 ? doctor / best : Double.NaN;
        }

        /** @return whether the doctor's pick ends within 1.5x of the best known fix (or better) */
        boolean within() {
            return StructuralCases.within(doctor, best);
        }
    }

    /**
     * @param loss the loss with the doctor's prescription followed
     * @param best the best known fix's loss
     * @return whether it ends within 1.5x of the best known fix (or better; any finite loss when the fix diverged)
     */
    static boolean within(float loss, float best) {
        return Float.isFinite(loss) && (!Float.isFinite(best) || loss <= 1.5 * best);
    }

    private static Setup with(Setup s, Setup.Arch arch, int depth, Setup.Act act, Setup.Init init, boolean normalized,
            int length) {
        return new Setup(s.seed(), arch, depth, s.width(), act, init, normalized, s.optimizer(), s.batchSize(), s.schedule(),
                s.task(), s.outputs(), s.features(), length, s.steps(), s.multiplier());
    }

    /** The kinds, in the order {@link #draw} fills them. */
    static final List<String> KINDS = List.of("bad-init", "no-norm", "vanilla-rnn");

    /**
     * Draws the cases: seeds of the split in order, each used for the first kind that still needs cases and that
     * fits its task (plain tasks for the MLPs, sequence tasks for the RNN). DJL optimizers only (no RMSProp).
     *
     * @param split the split
     * @param perKind cases per kind
     * @return pairs {unfixed, fixed} set-ups, with their kind, in order
     */
    static List<Object[]> draw(FamilyGenerator.Split split, int perKind) {
        List<Object[]> out = new ArrayList<>();
        int[] made = new int[3];
        for (long seed : split.seeds(FamilyGenerator.Split.SIZE)) {
            if (made[0] >= perKind && made[1] >= perKind && made[2] >= perKind) {
                break;
            }
            Setup s = FamilyGenerator.draw(seed);
            if (s.optimizer() == Setup.Opt.RMSPROP) {
                continue;
            }
            boolean sequence = s.task() == Setup.Task.SEQUENCE_REGRESSION || s.task() == Setup.Task.SEQUENCE_CLASSIFICATION;
            if (sequence && made[2] < perKind) {
                int len = Math.max(16, s.length());
                out.add(new Object[] {"vanilla-rnn", with(s, Setup.Arch.RNN, 1, Setup.Act.TANH, s.init(), false, len),
                    with(s, Setup.Arch.GRU, 1, Setup.Act.TANH, s.init(), false, len)});
                made[2]++;
            } else if (!sequence && made[0] <= made[1] && made[0] < perKind) {
                out.add(new Object[] {"bad-init", with(s, Setup.Arch.MLP, 12, Setup.Act.RELU, Setup.Init.LECUN, false, s.length()),
                    with(s, Setup.Arch.MLP, 12, Setup.Act.RELU, Setup.Init.HE, false, s.length())});
                made[0]++;
            } else if (!sequence && made[1] < perKind) {
                out.add(new Object[] {"no-norm", with(s, Setup.Arch.RESIDUAL_MLP, 8, s.activation(), s.init(), false, s.length()),
                    with(s, Setup.Arch.RESIDUAL_MLP, 8, s.activation(), s.init(), true, s.length())});
                made[1]++;
            }
        }
        return out;
    }

    /**
     * Runs one case: the best known fix and the unfixed model trained for the set-up's steps, the doctor consulted on
     * the unfixed one and its prescription trained the same way.
     *
     * @param kind the kind
     * @param unfixed the faulty set-up
     * @param fixed its best known fix
     * @return the row
     */
    static Row run(String kind, Setup unfixed, Setup fixed) {
        return run(kind, unfixed, fixed, b -> b);
    }

    /**
     * {@link #run(String, Setup, Setup)} with the doctor's builder adjusted first (a rule turned on, say).
     *
     * @param kind the kind
     * @param unfixed the faulty set-up
     * @param fixed its best known fix
     * @param settings adjusts the doctor's builder before it runs
     * @return the row
     */
    static Row run(String kind, Setup unfixed, Setup fixed, java.util.function.UnaryOperator<Doctor.Builder> settings) {
        GeneratedScenario bad = new GeneratedScenario(unfixed);
        GeneratedScenario good = new GeneratedScenario(fixed);
        float lr = bad.nominalLr();
        float best = train(good, lr);
        float plain = train(bad, lr);
        DoctorResult d;
        try (ScenarioRun run = bad.open(lr)) {
            d = DoctorBenchmark.consult(DoctorBenchmark.blocks(bad, lr), DoctorBenchmark.configs(bad), lr, run,
                    bad.steps(), settings);
        }
        float doctor;
        if (d.noChangeNeeded()) {
            doctor = plain;
        } else {
            try (ScenarioRun run = bad.open((float) d.chosen().learningRate())) {
                doctor = DoctorBenchmark.trainPrescription(run, d);
            }
        }
        return new Row(kind, unfixed.id(), best, plain, doctor, d.noChangeNeeded() ? "no change" : d.chosen().name(),
                d.prescription());
    }

    private static float train(GeneratedScenario g, float lr) {
        try (ScenarioRun run = g.open(lr)) {
            return DoctorBenchmark.train(run, null, null);
        }
    }

    private static String fmt(float v) {
        return Float.isFinite(v) ? String.format(Locale.ROOT, "%.4g", v) : "NaN";
    }

    /**
     * @param rows the rows
     * @param split the split's word
     * @return the Markdown part
     */
    static String markdown(List<Row> rows, String split) {
        StringBuilder sb = new StringBuilder();
        long within = rows.stream().filter(Row::within).count();
        sb.append(String.format(Locale.ROOT, "%nGenerated structural cases (%s split): %d set-ups of the family turned into a"
                + " structural fault (`bad-init`: 12-layer plain ReLU MLP with LeCun initialization, best known fix He;"
                + " `no-norm`: 8-block residual MLP without normalization, fix pre-LayerNorm; `vanilla-rnn`: tanh RNN on"
                + " sequences of 16 or more steps, fix a GRU), each trained at its optimizer's nominal rate for the set-up's"
                + " steps. The doctor's pick ends within 1.5x of the best known fix (or better) on **%d of %d** (goal: 80%%)."
                + "%n%n", split, rows.size(), within, rows.size()));
        sb.append("| kind | set-up | best known fix | unfixed | doctor | doctor / best | doctor's pick |\n");
        sb.append("|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | `%s` | %s | %s | %s | %s | %s |%n", r.kind(), r.setup(), fmt(r.best()),
                    fmt(r.unfixed()), fmt(r.doctor()), Double.isFinite(r.ratio()) ? String.format(Locale.ROOT, "%.2fx", r.ratio())
                            : "—", r.prescription()));
        }
        return sb.toString();
    }
}
