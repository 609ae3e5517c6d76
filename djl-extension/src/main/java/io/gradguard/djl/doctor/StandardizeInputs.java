package io.gradguard.djl.doctor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import io.gradguard.djl.doctor.FlowReport.Kind;
import java.util.List;

/**
 * Puts a leading {@link Standardize} block in front of the model: {@code (x - mean) / std} per input column (the last
 * axis), with the mean and standard deviation measured on {@link FixContext#sample()} (a floor of 1e-6 on the std).
 * The statistics are non-trainable parameters ({@code RUNNING_MEAN}, {@code RUNNING_VAR} types), so they are saved
 * and loaded with the model. Where the root is a {@link SequentialBlock}, the standardization becomes its first child,
 * named {@code 00Standardize}, and every existing name is kept; otherwise the model moves under a new root as
 * {@code 01<Class>} and its parameter names gain that prefix.
 */
public final class StandardizeInputs implements StructureFix {

    /** The fix. */
    public StandardizeInputs() {}

    @Override
    public String name() {
        return "standardize-inputs";
    }

    @Override
    public String prescription() {
        return "standardize every input column: x = (x - mean) / std, with the training data's per-column mean and std";
    }

    /** Applies when the flow check found the input columns' scales spread beyond its range. */
    @Override
    public boolean appliesTo(Block block, FlowReport report) {
        return report.has(Kind.INPUT_SCALE);
    }

    @Override
    public FixResult apply(Block block, FixContext context) {
        NDArray x = context.sample();
        if (x == null || x.getShape().dimension() < 2) {
            throw new IllegalArgumentException("standardize-inputs: needs a sample of inputs with a batch axis and a"
                    + " column axis, got " + (x == null ? "none" : x.getShape()));
        }
        long cols = x.getShape().get(x.getShape().dimension() - 1);
        float[] mean;
        float[] std;
        try (NDManager scope = context.manager().newSubManager()) {
            NDArray flat = x.toType(DataType.FLOAT32, false).reshape(-1, cols);
            flat.attach(scope);
            NDArray m = flat.mean(new int[] {0});
            m.attach(scope);
            NDArray centered = flat.sub(m);
            centered.attach(scope);
            NDArray sd = centered.square().mean(new int[] {0}).sqrt();
            sd.attach(scope);
            mean = m.toFloatArray();
            std = sd.toFloatArray();
        }
        for (int i = 0; i < std.length; i++) {
            std[i] = Math.max(std[i], 1e-6f);
        }
        Standardize first = new Standardize(mean, std);
        NamedSequentialBlock root = new NamedSequentialBlock();
        root.addNamed("00Standardize", first);
        boolean kept = block instanceof SequentialBlock;
        if (kept) {
            for (Pair<String, Block> c : block.getChildren()) {
                root.addNamed(c.getKey(), c.getValue());
            }
        } else {
            root.addNamed("01" + block.getClass().getSimpleName(), block);
        }
        return new FixResult(name(), root, List.of(), List.of("00Standardize"), kept,
                "standardized " + cols + " input columns (std from " + std.length + " columns, " + x.getShape().get(0)
                        + " rows)");
    }

    /** {@code (x - mean) / std} over the last axis, with fixed, non-trainable statistics. */
    public static final class Standardize extends AbstractBlock {
        private final Parameter mean;
        private final Parameter std;

        /**
         * @param mean per-column mean
         * @param std per-column standard deviation, positive
         */
        public Standardize(float[] mean, float[] std) {
            this.mean = addParameter(Parameter.builder().setName("mean").setType(Parameter.Type.RUNNING_MEAN)
                    .optRequiresGrad(false).optShape(new Shape(mean.length))
                    .optInitializer((m, s, t) -> m.create(mean).toType(t, false)).build());
            this.std = addParameter(Parameter.builder().setName("std").setType(Parameter.Type.RUNNING_VAR)
                    .optRequiresGrad(false).optShape(new Shape(std.length))
                    .optInitializer((m, s, t) -> m.create(std).toType(t, false)).build());
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                PairList<String, Object> params) {
            NDArray x = inputs.head();
            NDArray m = ps.getValue(mean, x.getDevice(), training);
            NDArray s = ps.getValue(std, x.getDevice(), training);
            NDList out = new NDList(x.sub(m).div(s));
            for (int i = 1; i < inputs.size(); i++) {
                out.add(inputs.get(i));
            }
            return out;
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return inputShapes;
        }
    }
}
