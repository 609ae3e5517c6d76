package io.gradguard.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The structure doctor's JSON record ({@code {"type":"doctor","version":1,...}}, written by djl-extension's
 * {@code DoctorResult.write}), read back with what the command line shows of it. The fields are described in
 * {@code DoctorResult}'s Javadoc; numbers written as the strings {@code "NaN"}, {@code "Infinity"} and {@code
 * "-Infinity"} are read as those values, and a missing number as NaN.
 *
 * @param source the file it was read from
 * @param noChangeNeeded true when the model as it is won
 * @param chosen the trial prescribed (its name, fixes and learning rate; its curve is in {@code trials})
 * @param prescription the code-level lines
 * @param learningRate the user's learning rate
 * @param suggestedLr the range test's suggestion, NaN when it did not run
 * @param budget what the consultation cost
 * @param before the flow check on the model as it is
 * @param after the flow check on the chosen trial's model
 * @param trials every trial, best first
 */
record DoctorRecord(Path source, boolean noChangeNeeded, Trial chosen, List<String> prescription, double learningRate,
        double suggestedLr, Budget budget, Flow before, Flow after, List<Trial> trials) {

    /** The record version this reader knows. */
    static final int VERSION = 1;

    /**
     * One trial.
     *
     * @param name e.g. {@code as-is}, {@code he-init+lr}
     * @param fixes the fixes applied, in order
     * @param learningRate its learning rate
     * @param losses the training loss per step (shorter than the trial when it diverged)
     * @param finalLoss the evaluation loss after the trial, NaN or infinite when it diverged
     * @param diverged true when a loss was not finite
     * @param rank 1 for the best
     */
    record Trial(String name, List<String> fixes, double learningRate, double[] losses, double finalLoss,
            boolean diverged, int rank) {}

    /**
     * The consultation's cost.
     *
     * @param plannedSteps the steps the user planned to train
     * @param budgetSteps the steps the trials were allowed together
     * @param trials the number of trials
     * @param stepsPerTrial steps per trial
     * @param trialSteps trials x steps per trial
     * @param lrFinderSteps the range test's steps (0 when it did not run)
     * @param flowPasses forward-and-backward passes of the two flow checks
     * @param millis wall-clock time of the whole consultation
     */
    record Budget(int plannedSteps, int budgetSteps, int trials, int stepsPerTrial, int trialSteps, int lrFinderSteps,
            int flowPasses, long millis) {}

    /**
     * One flow check, as much of it as the command line shows.
     *
     * @param layers one row per weight parameter, input side first
     * @param signal per weight layer (same order), the RMS of the loss's gradient at the layer's output (the backward
     *     signal), or NaN where the check could not trace it (a root that is not a {@code SequentialBlock})
     * @param gradGrowthPerLayer the backward signal's growth per layer towards the input
     * @param gradCompound the same over the depth
     * @param activationGrowthPerLayer the activations' growth per weight layer towards the output
     * @param firstOutOfRange the first layer out of range, null when all is in range
     * @param findings one line per finding: {@code kind at layer: detail}
     */
    record Flow(List<Layer> layers, double[] signal, double gradGrowthPerLayer, double gradCompound,
            double activationGrowthPerLayer, String firstOutOfRange, List<String> findings) {

        /** @return true when every weight layer has a backward-signal figure */
        boolean hasSignal() {
            if (signal.length == 0) {
                return false;
            }
            for (double v : signal) {
                if (Double.isNaN(v)) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * One weight parameter of a flow check.
     *
     * @param name the parameter's name
     * @param block its block
     * @param gradNorm the gradient's L2 norm
     * @param gradRms the gradient's RMS per element
     * @param updateToWeight the first update relative to the weight
     */
    record Layer(String name, String block, double gradNorm, double gradRms, double updateToWeight) {}

    /**
     * Reads a record.
     *
     * @param file the JSON file
     * @return the record
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException naming the file when it is not a doctor record (not JSON, another type, a
     *     newer version, a required field missing)
     */
    static DoctorRecord read(Path file) throws IOException {
        String text = Files.readString(file);
        JsonNode j;
        try {
            j = new ObjectMapper().readTree(text);
        } catch (JacksonException e) {
            throw notARecord(file, "not one JSON object (" + e.getOriginalMessage() + ")");
        }
        if (j == null || !j.isObject()) {
            throw notARecord(file, "not one JSON object");
        }
        if (!"doctor".equals(j.path("type").asText(null))) {
            throw notARecord(file, "its \"type\" is " + (j.has("type") ? j.get("type") : "missing") + ", not \"doctor\"");
        }
        int version = j.path("version").asInt(0);
        if (version != VERSION) {
            throw notARecord(file, "version " + j.get("version") + "; this reader knows version " + VERSION);
        }
        for (String field : List.of("chosen", "prescription", "budget", "flow_before", "flow_after", "trials")) {
            if (j.get(field) == null || j.get(field).isNull()) {
                throw notARecord(file, "the field \"" + field + "\" is missing");
            }
        }
        List<Trial> trials = new ArrayList<>();
        for (JsonNode t : j.get("trials")) {
            trials.add(trial(t));
        }
        JsonNode b = j.get("budget");
        Budget budget = new Budget(b.path("planned_steps").asInt(), b.path("budget_steps").asInt(),
                b.path("trials").asInt(), b.path("steps_per_trial").asInt(), b.path("trial_steps").asInt(),
                b.path("lr_finder_steps").asInt(), b.path("flow_passes").asInt(), b.path("millis").asLong());
        return new DoctorRecord(file, j.path("no_change_needed").asBoolean(), trial(j.get("chosen")),
                strings(j.get("prescription")), num(j.get("learning_rate")), num(j.get("suggested_lr")), budget,
                flow(j.get("flow_before")), flow(j.get("flow_after")), trials);
    }

    /** @return the trial in {@code trials} the doctor chose (by name), or the chosen entry itself (no curve) */
    Trial chosenTrial() {
        return trials.stream().filter(t -> t.name().equals(chosen.name())).findFirst().orElse(chosen);
    }

    private static IllegalArgumentException notARecord(Path file, String why) {
        return new IllegalArgumentException(file + " is not a GradGuard doctor record: " + why
                + " (give the JSON file the doctor wrote with Doctor.builder().record(path))");
    }

    private static Trial trial(JsonNode t) {
        JsonNode losses = t.path("losses");
        double[] curve = new double[losses.size()];
        for (int i = 0; i < curve.length; i++) {
            curve[i] = num(losses.get(i));
        }
        return new Trial(t.path("name").asText("?"), strings(t.get("fixes")), num(t.get("learning_rate")), curve,
                num(t.get("final_loss")), t.path("diverged").asBoolean(), t.path("rank").asInt());
    }

    private static Flow flow(JsonNode f) {
        List<Layer> layers = new ArrayList<>();
        for (JsonNode l : f.path("layers")) {
            layers.add(new Layer(l.path("name").asText(), l.path("block").asText(), num(l.get("grad_norm")),
                    num(l.get("grad_rms")), num(l.get("update_to_weight"))));
        }
        // the backward signal at each weight layer's output: the activation row of the layer's block (a nested
        // block's path uses '/', its parameter names '_')
        double[] signal = new double[layers.size()];
        for (int i = 0; i < signal.length; i++) {
            signal[i] = Double.NaN;
            for (JsonNode a : f.path("activations")) {
                if (a.path("block").asText().replace('/', '_').equals(layers.get(i).block())) {
                    signal[i] = num(a.get("grad_rms"));
                }
            }
        }
        List<String> findings = new ArrayList<>();
        for (JsonNode x : f.path("findings")) {
            findings.add(x.path("kind").asText() + " at " + x.path("layer").asText() + ": " + x.path("detail").asText());
        }
        JsonNode first = f.get("first_out_of_range");
        return new Flow(layers, signal, num(f.get("grad_growth_per_layer")), num(f.get("grad_compound")),
                num(f.get("activation_growth_per_layer")), first == null || first.isNull() ? null : first.asText(),
                findings);
    }

    private static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        if (a != null) {
            a.forEach(n -> out.add(n.asText()));
        }
        return out;
    }

    /** A JSON number, or one of the strings NaN, Infinity, -Infinity; NaN when missing or unreadable. */
    static double num(JsonNode n) {
        if (n == null || n.isNull()) {
            return Double.NaN;
        }
        if (n.isNumber()) {
            return n.asDouble();
        }
        try {
            return Double.parseDouble(n.asText());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
