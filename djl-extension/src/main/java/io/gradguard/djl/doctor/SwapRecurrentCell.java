package io.gradguard.djl.doctor;

import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.recurrent.GRU;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.nn.recurrent.RNN;
import ai.djl.nn.recurrent.RecurrentBlock;
import ai.djl.util.Pair;
import io.gradguard.core.internal.Fields;
import io.gradguard.djl.internal.DjlShape;
import java.util.ArrayList;
import java.util.List;

/**
 * Replaces each vanilla {@link RNN} in the model with a gated cell, {@link #gru()} or {@link #lstm()}, of the same
 * state size, number of layers, input layout ({@code batchFirst}), direction, biases, dropout and returned state, so
 * the model's input and output shapes are kept. Gates let the gradient through time pass almost unchanged where a
 * tanh RNN multiplies it by its recurrent Jacobian at every step.
 *
 * <p>The RNN must be the root or a child of a {@link SequentialBlock} (nested ones are entered); the sequences are
 * rebuilt with the same child instances under their old names, and the new cell takes the RNN's place under the
 * RNN's name with {@code RNN} replaced by {@code GRU} or {@code LSTM} (e.g. {@code 01RNN} becomes {@code 01GRU}). The
 * cell's parameters are new (a GRU has 3 gate blocks, an LSTM 4, against the RNN's 1), so {@link FixResult#namesKept()}
 * is false; every other parameter keeps its name and value. The new cell is left uninitialized: the next
 * {@code initialize} creates its parameters with the trainer's initializer and keeps the others.
 */
public final class SwapRecurrentCell implements StructureFix {

    private final boolean lstm;

    private SwapRecurrentCell(boolean lstm) {
        this.lstm = lstm;
    }

    /** @return the fix that swaps each vanilla RNN for a GRU */
    public static SwapRecurrentCell gru() {
        return new SwapRecurrentCell(false);
    }

    /** @return the fix that swaps each vanilla RNN for an LSTM */
    public static SwapRecurrentCell lstm() {
        return new SwapRecurrentCell(true);
    }

    /** @return true: the fix replaces the vanilla cell with a gated one */
    @Override
    public boolean swapsCell() {
        return true;
    }

    @Override
    public String name() {
        return lstm ? "rnn-to-lstm" : "rnn-to-gru";
    }

    @Override
    public String prescription() {
        String cell = lstm ? "LSTM" : "GRU";
        return "replace the vanilla RNN with a " + cell + " of the same sizes: " + cell + ".builder().setStateSize(..)"
                + ".setNumLayers(..).optBatchFirst(..).build()";
    }

    /** Applies when the model holds a vanilla {@link RNN} the fix can reach (the root, or inside SequentialBlocks). */
    @Override
    public boolean appliesTo(Block block, FlowReport report) {
        return reachable(block) > 0;
    }

    @Override
    public FixResult apply(Block block, FixContext context) {
        if (reachable(block) == 0) {
            throw new IllegalArgumentException(name() + ": needs a vanilla RNN (ai.djl.nn.recurrent.RNN) as the root or"
                    + " inside SequentialBlocks, found none in " + block.getClass().getSimpleName());
        }
        List<String> added = new ArrayList<>();
        Block fixed;
        if (block instanceof RNN rnn) {
            fixed = swap(rnn);
            added.add(lstm ? "LSTM" : "GRU");
        } else {
            fixed = rebuild((SequentialBlock) block, "", added);
        }
        return new FixResult(name(), fixed, List.of(), List.copyOf(added), false, "replaced " + added.size()
                + " vanilla RNN block" + (added.size() == 1 ? "" : "s") + " with " + (lstm ? "LSTM" : "GRU") + " blocks"
                + " of the same sizes");
    }

    private SequentialBlock rebuild(SequentialBlock seq, String prefix, List<String> added) {
        NamedSequentialBlock out = new NamedSequentialBlock();
        for (Pair<String, Block> child : seq.getChildren()) {
            Block c = child.getValue();
            if (c instanceof SequentialBlock inner) {
                out.addNamed(child.getKey(), rebuild(inner, prefix + child.getKey() + "/", added));
            } else if (c instanceof RNN rnn) {
                String key = child.getKey().contains("RNN") ? child.getKey().replace("RNN", lstm ? "LSTM" : "GRU")
                        : child.getKey() + (lstm ? "LSTM" : "GRU");
                out.addNamed(key, swap(rnn));
                added.add(prefix + key);
            } else {
                out.addNamed(child.getKey(), c);
            }
        }
        return out;
    }

    private RecurrentBlock swap(RNN rnn) {
        long state = field(rnn, "stateSize", Long.class);
        int layers = field(rnn, "numLayers", Integer.class);
        boolean batchFirst = field(rnn, "batchFirst", Boolean.class);
        boolean biases = field(rnn, "hasBiases", Boolean.class);
        boolean bidirectional = field(rnn, "bidirectional", Boolean.class);
        boolean returnState = field(rnn, "returnState", Boolean.class);
        float drop = field(rnn, "dropRate", Float.class);
        if (lstm) {
            return LSTM.builder().setStateSize((int) state).setNumLayers(layers).optBatchFirst(batchFirst)
                    .optHasBiases(biases).optBidirectional(bidirectional).optReturnState(returnState).optDropRate(drop)
                    .build();
        }
        return GRU.builder().setStateSize((int) state).setNumLayers(layers).optBatchFirst(batchFirst)
                .optHasBiases(biases).optBidirectional(bidirectional).optReturnState(returnState).optDropRate(drop)
                .build();
    }

    /**
     * Reads one of {@link RecurrentBlock}'s protected settings (DJL has no getters for them); the fields read are
     * listed in {@link DjlShape#DOCTOR}.
     */
    private static <T> T field(RecurrentBlock b, String name, Class<T> type) {
        Object v = Fields.read(b, RecurrentBlock.class, name);
        if (!type.isInstance(v)) {
            throw new IllegalStateException("SwapRecurrentCell: cannot read RecurrentBlock." + name + " of this DJL"
                    + " version (" + (Fields.find(RecurrentBlock.class, name) == null ? "no such field" : "it holds " + v)
                    + "); build the GRU or LSTM by hand");
        }
        return type.cast(v);
    }

    /** Vanilla RNN blocks at the root or inside SequentialBlocks from it. */
    private static int reachable(Block b) {
        if (b instanceof RNN) {
            return 1;
        }
        int n = 0;
        if (b instanceof SequentialBlock) {
            for (Pair<String, Block> c : b.getChildren()) {
                n += reachable(c.getValue());
            }
        }
        return n;
    }
}
