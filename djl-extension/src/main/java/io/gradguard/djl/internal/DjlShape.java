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
 * field read anywhere else must be added here.
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

    /** The fields the guard reads (the listener, the loop guard and the agent), by declaring class. */
    public static final Map<String, List<String>> GUARD = guard();

    /** The fields the doctor reads besides the guard's, by declaring class. */
    public static final Map<String, List<String>> DOCTOR = Map.of(RECURRENT_BLOCK,
            List.of("stateSize", "numLayers", "batchFirst", "hasBiases", "bidirectional", "returnState", "dropRate"));

    private DjlShape() {}

    private static Map<String, List<String>> guard() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put(TRAINER, List.of("parameterStore", "listeners"));
        m.put(PARAMETER_STORE, List.of("parameterServer"));
        m.put(LOCAL_PARAMETER_SERVER, List.of("optimizer"));
        m.put(OPTIMIZER, List.of("rescaleGrad"));
        return Collections.unmodifiableMap(m);
    }
}
