package io.gradguard.core;

import java.util.List;
import java.util.Map;

/**
 * What the adapter tells the guard about the run before the first step; written as the event log's
 * {@code run} header.
 *
 * @param engine the engine, e.g. {@code DJL 0.36.0 / PyTorch 2.7.1}
 * @param device the parameters' device, e.g. {@code cpu()} or {@code gpu(0)}
 * @param attachment how the guard is attached: {@code listener}, {@code loop}, {@code agent}
 * @param parameters the trainable parameters, in the order of {@link StepStats#paramGradNorms()}
 * @param extra further facts for the header (snapshot size, install time...), may be empty
 */
public record RunInfo(
        String engine,
        String device,
        String attachment,
        List<Parameter> parameters,
        Map<String, Object> extra) {

    /**
     * A trainable parameter.
     *
     * @param name its name, e.g. {@code 03Linear_weight}
     * @param size its number of elements
     */
    public record Parameter(String name, long size) {}

    /** @return the parameter names, in order */
    public List<String> parameterNames() {
        return parameters.stream().map(Parameter::name).toList();
    }
}
