package io.gradguard.tensorflow.internal;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The TensorFlow Java shape GradGuard knows: every private field its code reads through
 * {@link io.gradguard.core.internal.Fields}, by the class that declares it. Class and field names only, no
 * TensorFlow type, so that the agent can check an application's TensorFlow Java class files against it before
 * any TensorFlow class loads. A field read anywhere else must be added here, to {@link #REQUIRED} when the guard
 * cannot work without it and to {@link #OPTIONAL} when the code that reads it has a fallback.
 */
public final class TfShape {

    /** {@code org.tensorflow.framework.optimizers.Optimizer}: its {@code tf}, swapped while the update builds. */
    public static final String OPTIMIZER = "org.tensorflow.framework.optimizers.Optimizer";
    /** {@code org.tensorflow.Session$Runner}: its feeds, fetches and targets, and the session it runs in. */
    public static final String RUNNER = "org.tensorflow.Session$Runner";

    /**
     * The fields the guard cannot work without, by declaring class: the optimizer's {@code tf} (the guarded update
     * is built through it) and the runner's targets (which runs train a guarded op), feeds and fetches (where the
     * guard's plan and statistics sit in a run). The agent does not guard a TensorFlow Java that lacks one of them:
     * its start-up check names the missing field.
     */
    public static final Map<String, List<String>> REQUIRED = required();

    /**
     * The fields the guard reads but can do without, by declaring class; the agent does not check them. Each has a
     * run-time fallback: without {@code Session$Runner.inputTensors} the plan is always fed with
     * {@code Runner.feed}, which is right for a runner made for one run, while a runner run again gets a second
     * plan feed instead of having its first replaced in place; without {@code Session$Runner.this$0} the agent
     * cannot tell which session ran a guarded step, so it warns once and does not act on the runs' results (the
     * graph still skips non-finite steps).
     */
    public static final Map<String, List<String>> OPTIONAL = Map.of(RUNNER, List.of("inputTensors", "this$0"));

    private TfShape() {}

    private static Map<String, List<String>> required() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put(OPTIMIZER, List.of("tf"));
        m.put(RUNNER, List.of("targets", "inputs", "outputs"));
        return Collections.unmodifiableMap(m);
    }
}
