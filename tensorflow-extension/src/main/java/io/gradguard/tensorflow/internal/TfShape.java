package io.gradguard.tensorflow.internal;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The TensorFlow Java shape GradGuard knows: every private field its code reads through
 * {@link io.gradguard.core.internal.Fields}, by the class that declares it. Class and field names only, no
 * TensorFlow type, so that the agent can check an application's TensorFlow Java class files against it before
 * any TensorFlow class loads. A field read anywhere else must be added here.
 */
public final class TfShape {

    /** {@code org.tensorflow.framework.optimizers.Optimizer}: its {@code tf}, swapped while the update builds. */
    public static final String OPTIMIZER = "org.tensorflow.framework.optimizers.Optimizer";
    /** {@code org.tensorflow.Session$Runner}: its feeds, fetches and targets, and the session it runs in. */
    public static final String RUNNER = "org.tensorflow.Session$Runner";

    /** The fields the guard reads (the API and the agent), by declaring class. */
    public static final Map<String, List<String>> GUARD = guard();

    private TfShape() {}

    private static Map<String, List<String>> guard() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put(OPTIMIZER, List.of("tf"));
        m.put(RUNNER, List.of("targets", "inputs", "inputTensors", "outputs", "this$0"));
        return Collections.unmodifiableMap(m);
    }
}
