package io.gradguard.benchmarks.family;

import ai.djl.engine.Engine;

/** The engine versions of this run, read from the engines themselves. */
final class Engines {

    private Engines() {}

    /** @return e.g. {@code DJL 0.36.0 / PyTorch 2.7.1 CPU; TensorFlow Java (TensorFlow 2.18.0) CPU} */
    static String describe() {
        StringBuilder sb = new StringBuilder();
        try {
            Engine e = Engine.getInstance();
            sb.append("DJL ").append(Engine.getDjlVersion()).append(" / ").append(e.getEngineName()).append(' ')
                    .append(e.getVersion()).append(" CPU");
        } catch (RuntimeException | LinkageError e) {
            sb.append("DJL (not loaded: ").append(e.getMessage()).append(')');
        }
        try {
            sb.append("; TensorFlow Java (TensorFlow ").append(org.tensorflow.TensorFlow.version()).append(") CPU");
        } catch (RuntimeException | LinkageError e) {
            sb.append("; TensorFlow Java (not loaded)");
        }
        return sb.toString();
    }
}
