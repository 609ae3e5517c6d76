package ai.djl.training;

/**
 * A DJL of another shape, for the agent's fault test: a future {@code Trainer} that keeps its parameters
 * elsewhere (no {@code parameterStore} field) and whose {@code step} takes an argument.
 */
public class Trainer implements AutoCloseable {

    private double weight = 1.0;
    private final java.util.List<Object> listeners = new java.util.ArrayList<>();

    /** One update of the future API. */
    public void step(double gradient) {
        weight -= 0.1 * gradient;
    }

    /** @return the weight */
    public double weight() {
        return weight;
    }

    @Override
    public void close() {}
}
