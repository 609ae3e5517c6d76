package io.gradguard.djl.doctor;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import io.gradguard.core.internal.Json;
import io.gradguard.djl.LrFinder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * What the {@link Doctor} found and chose.
 *
 * <p><b>The JSON record</b> ({@link #toJson()}, written by {@link Doctor.Builder#record}) is one object:
 * <pre>
 * type              "doctor"
 * version           1
 * no_change_needed  true when the model as it is won (within the margin)
 * chosen            {name, fixes: [fix names], learning_rate, warmup_steps}: the trial prescribed (warmup_steps:
 *                   the prescribed warm-up over the planned steps, 0 for none)
 * prescription      [lines]: code-level advice, or one "no change needed: ..." line
 * learning_rate     the user's learning rate
 * suggested_lr      the range test's suggestion (NaN when it did not run)
 * lr_range          {min_lr, max_lr, steps, min_loss_lr, divergence_lr, suggested_lr} or null
 * budget            {planned_steps, budget_steps, trials, steps_per_trial, trial_steps (trials x steps per trial),
 *                    lr_finder_steps, flow_passes, millis}
 * flow_before       the flow check on the model as it is ({@link FlowReport#toJson()}: passes, millis, loss,
 *                   update_rule, learning_rate, grad_growth_per_layer, grad_compound, activation_growth_per_layer,
 *                   input_column_spread, first_out_of_range, layers [{name, block, depth, size, grad_norm, grad_rms,
 *                   weight_norm, grad_to_weight, update_to_weight, bias_grad_norm}], activations [{block, rms, ratio,
 *                   grad_rms, weighted}], findings [{kind, layer, detail}])
 * flow_after        the same on the chosen trial's model at its learning rate
 * trials            best first: [{name, fixes, learning_rate, steps, losses: [per step], final_loss, diverged, rank,
 *                   warmup_steps (of the trial's own steps, 0 for none)}]
 * warmup_steps      the prescribed warm-up, in planned steps (0 for none)
 * </pre>
 * Numbers are JSON numbers; NaN and infinities are the strings {@code "NaN"}, {@code "Infinity"}, {@code
 * "-Infinity"}, as in the event log.
 *
 * @param flowBefore the flow check on the model as it is
 * @param flowAfter the flow check on the chosen trial's model
 * @param trials every trial, best first
 * @param chosen the trial prescribed (the model as it is when no change is needed)
 * @param chosenFixes the fixes of the chosen trial, in the order applied
 * @param noChangeNeeded true when the model as it is ended within the margin of the best trial
 * @param prescription code-level lines
 * @param learningRate the user's learning rate
 * @param lrRange the range test's outcome, or null when it did not run
 * @param plannedSteps the user's planned steps
 * @param budgetSteps the steps the trials were allowed together
 * @param stepsPerTrial steps of each trial
 * @param millis wall-clock time of the whole consultation, milliseconds
 * @param recipe what {@link #fixedBlock} rebuilds the chosen model from (not in the record)
 * @param warmUpSteps the prescribed linear learning-rate warm-up, in planned steps; 0 when none is prescribed
 */
public record DoctorResult(FlowReport flowBefore, FlowReport flowAfter, List<Trial> trials, Trial chosen,
        List<StructureFix> chosenFixes, boolean noChangeNeeded, List<String> prescription, double learningRate,
        LrFinder.Result lrRange, int plannedSteps, int budgetSteps, int stepsPerTrial, long millis, Recipe recipe,
        int warmUpSteps) {

    /**
     * A result without a warm-up (the record's first form); see the record's parameters.
     *
     * @param flowBefore the flow check on the model as it is
     * @param flowAfter the flow check on the chosen trial's model
     * @param trials every trial, best first
     * @param chosen the trial prescribed
     * @param chosenFixes the fixes of the chosen trial
     * @param noChangeNeeded true when the model as it is won
     * @param prescription code-level lines
     * @param learningRate the user's learning rate
     * @param lrRange the range test's outcome, or null
     * @param plannedSteps the user's planned steps
     * @param budgetSteps the steps the trials were allowed together
     * @param stepsPerTrial steps of each trial
     * @param millis wall-clock time, milliseconds
     * @param recipe what {@link #fixedBlock} rebuilds the chosen model from
     */
    public DoctorResult(FlowReport flowBefore, FlowReport flowAfter, List<Trial> trials, Trial chosen,
            List<StructureFix> chosenFixes, boolean noChangeNeeded, List<String> prescription, double learningRate,
            LrFinder.Result lrRange, int plannedSteps, int budgetSteps, int stepsPerTrial, long millis, Recipe recipe) {
        this(flowBefore, flowAfter, trials, chosen, chosenFixes, noChangeNeeded, prescription, learningRate, lrRange,
                plannedSteps, budgetSteps, stepsPerTrial, millis, recipe, 0);
    }

    /**
     * How to rebuild the chosen model.
     *
     * @param factory the user's model factory
     * @param seed the engine seed the trials started from
     * @param inputShape the input shape
     * @param sample the input sample data-dependent fixes used, row-major
     * @param sampleShape its shape
     */
    public record Recipe(Supplier<Block> factory, int seed, Shape inputShape, float[] sample, Shape sampleShape) {}

    /** @return training steps all trials took together: trials x steps per trial */
    public int trialSteps() {
        return trials.size() * stepsPerTrial;
    }

    /**
     * Builds the chosen model: a fresh block from the factory, initialized in the given manager from the doctor's
     * seed, with the chosen fixes applied (input statistics from the same sample the trials used). Hand it to
     * {@code model.setBlock(...)}; {@code trainer.initialize(...)} keeps its parameters.
     *
     * @param manager the manager that will own its parameters (the model's)
     * @return the initialized, fixed block (the model as it is when no change is needed)
     */
    public Block fixedBlock(NDManager manager) {
        Block block = recipe.factory().get();
        Engine.getInstance().setRandomSeed(recipe.seed());
        block.initialize(manager, DataType.FLOAT32, recipe.inputShape());
        try (NDArray sample = manager.create(recipe.sample(), recipe.sampleShape())) {
            for (StructureFix f : chosenFixes) {
                block = f.apply(block, new FixContext(manager, recipe.inputShape(), sample)).block();
                block.initialize(manager, DataType.FLOAT32, recipe.inputShape());
            }
        }
        block.initialize(manager, DataType.FLOAT32, recipe.inputShape());
        return block;
    }

    /** @return the prescription, the ranking and the flow before and after, as text */
    public String text() {
        StringBuilder sb = new StringBuilder("Prescription:\n");
        prescription.forEach(l -> sb.append("  ").append(l).append('\n'));
        sb.append(String.format(Locale.ROOT, "Trials (%d x %d steps = %d of a budget of %d; planned %d; %d ms), best"
                + " first:%n", trials.size(), stepsPerTrial, trialSteps(), budgetSteps, plannedSteps, millis));
        for (Trial t : trials) {
            sb.append(String.format(Locale.ROOT, "  %-28s lr %-9.3g final loss %-10.4g%s%s%n", t.name(),
                    t.learningRate(), t.finalLoss(), t.warmUpSteps() > 0 ? " (warm-up " + t.warmUpSteps() + " steps)"
                            : "", t.diverged() ? " (diverged)" : ""));
        }
        sb.append("Before:\n").append(flowBefore.text()).append("After (").append(chosen.name()).append("):\n")
                .append(flowAfter.text());
        return sb.toString();
    }

    /** @return the record described above, one JSON object */
    public Json toJson() {
        List<Object> ts = new ArrayList<>();
        for (int i = 0; i < trials.size(); i++) {
            ts.add(trials.get(i).toJson(i + 1));
        }
        Json range = null;
        if (lrRange != null) {
            range = new Json().put("min_lr", lrRange.minLr()).put("max_lr", lrRange.maxLr())
                    .put("steps", lrRange.learningRates().size()).put("min_loss_lr", lrRange.minLossLr())
                    .put("divergence_lr", lrRange.divergenceLr()).put("suggested_lr", lrRange.suggestedLr());
        }
        Json budget = new Json().put("planned_steps", plannedSteps).put("budget_steps", budgetSteps)
                .put("trials", trials.size()).put("steps_per_trial", stepsPerTrial).put("trial_steps", trialSteps())
                .put("lr_finder_steps", lrRange == null ? 0 : lrRange.learningRates().size())
                .put("flow_passes", flowBefore.passes() + flowAfter.passes()).put("millis", millis);
        Json chosenJson = new Json().put("name", chosen.name()).putAny("fixes", chosen.fixes())
                .put("learning_rate", chosen.learningRate()).put("warmup_steps", warmUpSteps);
        return new Json().put("type", "doctor").put("version", 1).put("no_change_needed", noChangeNeeded)
                .put("chosen", chosenJson).putAny("prescription", prescription).put("learning_rate", learningRate)
                .put("suggested_lr", lrRange == null ? Double.NaN : lrRange.suggestedLr())
                .putAny("lr_range", range).put("budget", budget).put("flow_before", flowBefore.toJson())
                .put("flow_after", flowAfter.toJson()).putAny("trials", ts).put("warmup_steps", warmUpSteps);
    }

    /**
     * Writes {@link #toJson()} and a line end to a file, replacing it.
     *
     * @param path the file
     * @throws IllegalStateException naming the file when it cannot be written
     */
    public void write(Path path) {
        try {
            Files.writeString(path, toJson() + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("Doctor: cannot write the record to " + path + ": " + e, e);
        }
    }
}
