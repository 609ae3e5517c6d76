package io.gradguard.djl.doctor;

import ai.djl.nn.Block;

/**
 * One repair of a model's structure, applied to a DJL {@link Block} tree: a re-initialization, an inserted
 * normalization, a leading input standardization. A fix keeps the model's input and output shapes; where it says so
 * in {@link FixResult#namesKept()} it also keeps every existing parameter's name, so that code and checkpoints that
 * refer to parameters by name keep working.
 *
 * <p>Fixes act on an <b>initialized</b> block (its parameters exist): re-initializations overwrite values in place,
 * structural fixes return a new root that holds the same child instances plus new, uninitialized blocks, which the
 * next {@code block.initialize(...)} or {@code trainer.initialize(...)} initializes (existing parameters are kept).
 */
public interface StructureFix {

    /** @return a short identifier, e.g. {@code he-init} (used in the doctor's record) */
    String name();

    /** @return what the fix does, as one line of code-level advice, e.g. "insert LayerNorm after each Linear" */
    String prescription();

    /**
     * Whether the fix fits this model and what its gradient flow shows.
     *
     * @param block the initialized model
     * @param report the flow check's report on it
     * @return true when the fix should be tried
     */
    boolean appliesTo(Block block, FlowReport report);

    /**
     * Applies the fix.
     *
     * @param block the initialized model; re-initializations change it in place
     * @param context the manager for new arrays, the input shape and a sample of inputs
     * @return the fixed model (the same instance or a new root) and what changed
     * @throws IllegalArgumentException when the block has nothing this fix can act on, naming what it looked for
     */
    FixResult apply(Block block, FixContext context);

    /**
     * Whether the fix only sets parameter values (a re-initialization: the structure, the shapes and every name stay).
     * The {@link Doctor} prescribes such a fix to a model that trains without the usual margin when the model is stuck:
     * the flow check finds both the activations and the backward signal out of range with depth, and the model as it
     * is does not learn in its trial, while the re-initialization ends lower by the stuck margin
     * ({@link Doctor.Builder#stuckMargin}).
     *
     * @return true for a re-initialization; false (the default) for a fix that changes the structure
     */
    default boolean reinitializes() {
        return false;
    }

    /**
     * Whether the fix replaces a vanilla recurrent cell with a gated one (a GRU or an LSTM of the same sizes). The
     * {@link Doctor} holds such a swap to its own margin, {@link Doctor.Builder#cellSwapMargin}, instead of the change
     * margin: the flow check cannot call for it (at initialization a gated cell's gradient through time fades as
     * well; its gates learn to keep it), and a short trial shows only the start of its lead.
     *
     * @return true for a cell swap; false (the default) otherwise
     */
    default boolean swapsCell() {
        return false;
    }
}
