package io.gradguard.benchmarks;

import ai.djl.engine.Engine;

/** The engine versions of this run, read from the engines themselves, and what MKL_CBWR makes of the numbers. */
public final class Engines {

    private Engines() {}

    /** @return e.g. {@code DJL 0.36.0 / PyTorch 2.7.1 CPU; TensorFlow Java (TensorFlow 2.18.0) CPU} */
    public static String describe() {
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

    /**
     * @return the reproducibility sentence: that rerunning gives the same numbers only when MKL_CBWR=COMPATIBLE is
     *     really set in this process, and otherwise what it is
     */
    public static String reproducibility() {
        String cbwr = System.getenv("MKL_CBWR");
        return "COMPATIBLE".equals(cbwr) ? "MKL_CBWR=COMPATIBLE: rerunning the command gives the same numbers."
                : "MKL_CBWR=" + (cbwr == null ? "(unset)" : cbwr) + ": MKL picks kernels by buffer alignment, so rerunning the"
                        + " command may change the last digits.";
    }
}
