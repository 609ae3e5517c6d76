package io.gradguard.djl.internal;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The DJL shape GradGuard knows: every private DJL field its code reads through
 * {@link io.gradguard.core.internal.Fields}, by the class that declares it. Class and field names only, no DJL
 * type, so that the agent can check an application's DJL class files against it before any DJL class loads; at
 * run time {@link io.gradguard.core.internal.Fields#missing} checks a loaded class against the same lists. A
 * field read anywhere else must be added here, to {@link #REQUIRED} when the guard cannot work without it and to
 * {@link #OPTIONAL} when the code that reads it has a fallback.
 */
public final class DjlShape {

    /** {@code ai.djl.training.Trainer}: its parameter store and live listener list ({@link TrainerAccess}). */
    public static final String TRAINER = "ai.djl.training.Trainer";
    /** {@code ai.djl.training.ParameterStore}: its parameter server ({@link TrainerAccess}). */
    public static final String PARAMETER_STORE = "ai.djl.training.ParameterStore";
    /** {@code ai.djl.training.LocalParameterServer}: its optimizer ({@link OptimizerAccess}). */
    public static final String LOCAL_PARAMETER_SERVER = "ai.djl.training.LocalParameterServer";
    /** {@code ai.djl.training.optimizer.Optimizer}: the gradient factor the clip folds into ({@link RescaleFold}). */
    public static final String OPTIMIZER = "ai.djl.training.optimizer.Optimizer";
    /** {@code ai.djl.nn.recurrent.RecurrentBlock}: the settings the doctor's recurrent-cell swap copies. */
    public static final String RECURRENT_BLOCK = "ai.djl.nn.recurrent.RecurrentBlock";

    /**
     * The fields the guard cannot work without, by declaring class: the parameter store (the per-device copies of
     * each parameter), its parameter server (gated to clip, skip or roll back an update) and the trainer's listener
     * list (where the guard stands in for DJL's divergence check). The agent does not guard a DJL that lacks one of
     * them: its start-up check and {@code DjlLoaderCheck} name the missing field.
     */
    public static final Map<String, List<String>> REQUIRED = required();

    /**
     * The fields the guard reads but can do without, by declaring class; the agent does not check them. Each has a
     * run-time fallback: without {@code LocalParameterServer.optimizer} the optimizer cannot be reached, so the
     * guard (policy {@code auto}) turns rollback off with the warning "could not reach the trainer's optimizer", and
     * clips scale the gradients in place; without {@code Optimizer.rescaleGrad} clips scale the gradients in
     * place instead of through the fused update's factor (the same update, one more pass over the gradients).
     */
    public static final Map<String, List<String>> OPTIONAL = Map.of(
            LOCAL_PARAMETER_SERVER, List.of("optimizer"),
            OPTIMIZER, List.of("rescaleGrad"));

    /**
     * The fields the doctor reads besides the guard's, by declaring class; the recurrent-cell swap throws, naming
     * the field, on a DJL that lacks one.
     */
    public static final Map<String, List<String>> DOCTOR = Map.of(RECURRENT_BLOCK,
            List.of("stateSize", "numLayers", "batchFirst", "hasBiases", "bidirectional", "returnState", "dropRate"));

    private DjlShape() {}

    private static Map<String, List<String>> required() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put(TRAINER, List.of("parameterStore", "listeners"));
        m.put(PARAMETER_STORE, List.of("parameterServer"));
        return Collections.unmodifiableMap(m);
    }
}
