package io.gradguard.models.family;

import java.util.Locale;

/**
 * One generated training set-up: everything a seed draws (see {@link FamilyGenerator#draw(long)}). The
 * learning rate is not part of it: the oracle search picks the best one, and the exploding twin trains at
 * {@link #multiplier()} times that.
 *
 * @param seed the seed that drew it (also the seed of its initialization and data)
 * @param arch the architecture
 * @param depth layers (MLP), conv layers (conv net), residual blocks (residual MLP), recurrent layers or
 *     attention blocks
 * @param width hidden units, channels or state size
 * @param activation the hidden activation (recurrent cells use their own)
 * @param init the weight initialization
 * @param normalized whether the residual MLP or attention block has LayerNorm (false elsewhere)
 * @param optimizer the optimizer
 * @param batchSize rows per batch
 * @param schedule the learning-rate schedule
 * @param task what is learned
 * @param outputs classes (classification) or output units (regression)
 * @param features input features per row or per time step (channels for images)
 * @param length sequence length (sequences) or image side (conv net); 0 otherwise
 * @param steps optimizer steps of one run (one pass over fresh batches)
 * @param multiplier the exploding twin's learning rate over the oracle's, drawn log-uniformly from
 *     {@link FamilyGenerator#MIN_MULTIPLIER} to {@link FamilyGenerator#MAX_MULTIPLIER}
 */
public record Setup(
        long seed,
        Arch arch,
        int depth,
        int width,
        Act activation,
        Init init,
        boolean normalized,
        Opt optimizer,
        int batchSize,
        Schedule schedule,
        Task task,
        int outputs,
        int features,
        int length,
        int steps,
        double multiplier) {

    /** Architectures. */
    public enum Arch {
        /** plain MLP, no normalization, no residuals */
        MLP,
        /** 3x3 convolutions (ReLU-family), max-pooling, two linear layers; no normalization */
        CONV,
        /** residual MLP blocks, with or without pre-LayerNorm */
        RESIDUAL_MLP,
        /** vanilla tanh RNN */
        RNN,
        /** GRU */
        GRU,
        /** LSTM */
        LSTM,
        /** self-attention + MLP residual block(s), with or without LayerNorm */
        ATTENTION;

        /** @return true for the recurrent cells */
        public boolean recurrent() {
            return this == RNN || this == GRU || this == LSTM;
        }
    }

    /** Hidden activations. */
    public enum Act { RELU, TANH, GELU, LEAKY_RELU }

    /** Weight initializations (biases start at zero, LayerNorm at identity). */
    public enum Init {
        /** He/Kaiming normal, std sqrt(2 / fan_in) */
        HE,
        /** Glorot/Xavier uniform, limit sqrt(6 / (fan_in + fan_out)) */
        XAVIER,
        /** LeCun normal, std sqrt(1 / fan_in) */
        LECUN
    }

    /** Optimizers. */
    public enum Opt {
        /** plain SGD */
        SGD,
        /** SGD with momentum 0.9 */
        MOMENTUM,
        /** Adam (0.9, 0.999) */
        ADAM,
        /** AdamW, weight decay 0.01 */
        ADAMW,
        /** RMSProp (decay 0.9, no momentum); the TensorFlow half only */
        RMSPROP
    }

    /** Learning-rate schedules. */
    public enum Schedule {
        /** the same rate every step */
        FIXED,
        /** linear warm-up over 5% of the steps, then cosine to 1% of the peak */
        WARMUP_COSINE
    }

    /** Tasks. */
    public enum Task {
        /** regression on a random tanh teacher (L2 loss) */
        REGRESSION,
        /** k-class classification (softmax cross-entropy) */
        CLASSIFICATION,
        /** sequences: a tanh of a decaying sum over the steps (regression) */
        SEQUENCE_REGRESSION,
        /** sequences: k classes from a decaying teacher readout (softmax cross-entropy) */
        SEQUENCE_CLASSIFICATION;

        /** @return true when the loss is softmax cross-entropy */
        public boolean classification() {
            return this == CLASSIFICATION || this == SEQUENCE_CLASSIFICATION;
        }
    }

    /** @return the warm-up length in steps (0 without warm-up) */
    public int warmupSteps() {
        return schedule == Schedule.WARMUP_COSINE ? Math.max(1, steps / 20) : 0;
    }

    /** @return a short identifier, e.g. {@code s1007-mlp8x32-relu-he-adam-cos-cls5} */
    public String id() {
        String a = switch (arch) {
            case MLP -> "mlp" + depth + "x" + width;
            case CONV -> "conv" + depth + "c" + width;
            case RESIDUAL_MLP -> "res" + depth + "x" + width + (normalized ? "ln" : "");
            case RNN, GRU, LSTM -> arch.name().toLowerCase(Locale.ROOT) + depth + "h" + width;
            case ATTENTION -> "attn" + depth + "d" + width + (normalized ? "ln" : "");
        };
        String t = switch (task) {
            case REGRESSION -> "reg";
            case CLASSIFICATION -> "cls" + outputs;
            case SEQUENCE_REGRESSION -> "sum" + length;
            case SEQUENCE_CLASSIFICATION -> "seq" + length + "c" + outputs;
        };
        return "s" + seed + "-" + a + "-" + activation.name().toLowerCase(Locale.ROOT).replace("_", "") + "-"
                + init.name().toLowerCase(Locale.ROOT) + "-" + optimizer.name().toLowerCase(Locale.ROOT)
                + (schedule == Schedule.WARMUP_COSINE ? "-cos" : "") + "-" + t;
    }

    /** @return one line for tables and logs */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s (batch %d, %d steps, x%.1f)", id(), batchSize, steps, multiplier);
    }
}
