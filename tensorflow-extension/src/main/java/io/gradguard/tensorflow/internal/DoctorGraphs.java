package io.gradguard.tensorflow.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** Graph look-ups shared by the doctor's checks and fixes: variables, their layer ops, fresh name scopes. */
public final class DoctorGraphs {

    /** Op types of the graph variables the doctor reads and assigns (TensorFlow Java's {@code tf.variable}). */
    public static final Set<String> VARIABLE_OPS = Set.of("VariableV2", "Variable");

    /** Op types that consume a weight as a layer: the output of such an op is the layer's pre-activation. */
    public static final Set<String> LAYER_OPS = Set.of("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3",
            "Conv2D", "Conv3D", "DepthwiseConv2dNative", "Einsum");

    private DoctorGraphs() {}

    /**
     * The graph variables a loss depends on, in creation order.
     *
     * @param graph the graph
     * @param loss the loss
     * @return the variables' outputs; empty when the loss depends on none
     */
    public static List<Output<?>> variablesOf(Graph graph, Operand<?> loss) {
        Set<String> upstream = upstream(loss);
        List<Output<?>> out = new ArrayList<>();
        for (Iterator<GraphOperation> it = graph.operations(); it.hasNext(); ) {
            GraphOperation op = it.next();
            if (VARIABLE_OPS.contains(op.type()) && upstream.contains(op.name())) {
                out.add(op.output(0));
            }
        }
        return out;
    }

    /**
     * The names of every op a value depends on, itself included.
     *
     * @param value the value
     * @return op names
     */
    public static Set<String> upstream(Operand<?> value) {
        Set<String> seen = new HashSet<>();
        Deque<Operation> todo = new ArrayDeque<>();
        todo.add(value.op());
        while (!todo.isEmpty()) {
            Operation op = todo.pop();
            if (!seen.add(op.name()) || !(op instanceof GraphOperation g)) {
                continue;
            }
            for (Operand<?> in : g.inputs()) {
                todo.push(in.op());
            }
        }
        return seen;
    }

    /**
     * The one layer op (matMul, convolution, ...) on the path from a variable to the loss, looking through
     * identities; null when there is none or more than one (a weight shared by several layers, as in an
     * unrolled recurrent net).
     *
     * @param variable the variable
     * @param upstream the ops the loss depends on
     * @return the layer op's output, or null
     */
    public static Output<?> layerOutput(Output<?> variable, Set<String> upstream) {
        List<Output<?>> found = new ArrayList<>();
        Deque<GraphOperation> todo = new ArrayDeque<>();
        todo.add((GraphOperation) variable.op());
        Set<String> seen = new HashSet<>();
        while (!todo.isEmpty()) {
            GraphOperation op = todo.pop();
            if (!seen.add(op.name())) {
                continue;
            }
            for (GraphOperation c : op.consumers()) {
                if (!upstream.contains(c.name())) {
                    continue;
                }
                if (LAYER_OPS.contains(c.type())) {
                    found.add(c.output(0));
                } else if (c.type().equals("Identity") || c.type().equals("ReadVariableOp")) {
                    todo.push(c);
                }
            }
        }
        return found.size() == 1 ? found.get(0) : null;
    }

    /**
     * Checks that an operand is a floating-point graph variable of static shape.
     *
     * @param operand the operand
     * @param where what the operand is, for the message (e.g. "variable 3 of the list")
     * @return the variable's output
     * @throws IllegalArgumentException naming the operand, what it is and what is accepted
     */
    public static Output<?> requireVariable(Operand<?> operand, String where) {
        if (operand == null) {
            throw new IllegalArgumentException(where + " is null; expected a graph variable (tf.variable)");
        }
        Output<?> o = operand.asOutput();
        if (!(o.op() instanceof GraphOperation) || !VARIABLE_OPS.contains(o.op().type())) {
            throw new IllegalArgumentException(where + " '" + o.op().name() + "' is a " + o.op().type()
                    + " op; expected a graph variable, one of " + VARIABLE_OPS + " (tf.variable)");
        }
        if (!TFloating.class.isAssignableFrom(o.type())) {
            throw new IllegalArgumentException(where + " '" + o.op().name() + "' holds " + o.type().getSimpleName()
                    + "; expected a floating-point variable");
        }
        Shape s = o.shape();
        if (s.isUnknown() || s.hasUnknownDimension()) {
            throw new IllegalArgumentException(where + " '" + o.op().name() + "' has shape " + s
                    + "; expected a static shape");
        }
        return o;
    }

    /**
     * Ops in a name scope no other op of the graph uses yet ({@code base_0}, {@code base_1}, ...).
     *
     * @param graph the graph
     * @param base the scope's base name
     * @return ops building under the fresh scope
     */
    public static synchronized Ops freshScope(Graph graph, String base) {
        for (int n = 0; ; n++) {
            String name = base + "_" + n;
            if (graph.operation(name + "/claim") == null) {
                Ops tf = Ops.create(graph).withSubScope(name);
                tf.withName("claim").noOp();
                return tf;
            }
        }
    }
}
