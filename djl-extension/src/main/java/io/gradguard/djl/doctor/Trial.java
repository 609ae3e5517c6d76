package io.gradguard.djl.doctor;

import io.gradguard.core.internal.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * One short training run the {@link Doctor} compared: the model with some fixes at some learning rate, from the same
 * seed on the same batches as every other trial.
 *
 * @param name what was tried, e.g. {@code as-is}, {@code lr}, {@code warmup}, {@code he-init}, {@code he-init+lr}
 * @param fixes the names of the fixes applied, in order (empty for the model as it is)
 * @param learningRate the learning rate it trained at
 * @param losses the training loss of each step, in order; shorter than the trial's steps when it diverged
 * @param finalLoss the mean loss on the evaluation batches after the last step (NaN or infinite when diverged)
 * @param diverged true when a training loss or the final loss was not finite
 * @param warmUpSteps the steps over which the trial's learning rate rose linearly to {@code learningRate} (step
 *     {@code i}, from 1, at {@code min(1, i / warmUpSteps)} of it); 0 when it trained at that rate from the first step
 */
public record Trial(String name, List<String> fixes, double learningRate, List<Double> losses, double finalLoss,
        boolean diverged, int warmUpSteps) {

    /**
     * A trial without warm-up (the record's first form).
     *
     * @param name what was tried
     * @param fixes the names of the fixes applied
     * @param learningRate the learning rate
     * @param losses the training loss of each step
     * @param finalLoss the mean evaluation loss after the last step
     * @param diverged true when a loss was not finite
     */
    public Trial(String name, List<String> fixes, double learningRate, List<Double> losses, double finalLoss,
            boolean diverged) {
        this(name, fixes, learningRate, losses, finalLoss, diverged, 0);
    }

    /** @throws IllegalArgumentException when {@code warmUpSteps} is negative */
    public Trial {
        if (warmUpSteps < 0) {
            throw new IllegalArgumentException("Trial.warmUpSteps: " + warmUpSteps + " is negative (0: no warm-up)");
        }
    }

    /** @return true when the trial's final loss is finite and no step's loss was not */
    public boolean finite() {
        return !diverged && Double.isFinite(finalLoss);
    }

    /**
     * Orders trials best first: finite ones by final loss (lower is better), diverged ones last.
     *
     * @param a one trial
     * @param b another
     * @return the comparison
     */
    static int compare(Trial a, Trial b) {
        if (a.finite() != b.finite()) {
            return a.finite() ? -1 : 1;
        }
        return a.finite() ? Double.compare(a.finalLoss, b.finalLoss) : 0;
    }

    /**
     * @param rank the trial's place, 1 for the best
     * @return the trial as the doctor's record writes it
     */
    Json toJson(int rank) {
        List<Object> curve = new ArrayList<>(losses);
        return new Json().put("name", name).putAny("fixes", fixes).put("learning_rate", learningRate)
                .put("steps", losses.size()).putAny("losses", curve).put("final_loss", finalLoss)
                .put("diverged", diverged).put("rank", rank).put("warmup_steps", warmUpSteps);
    }
}
