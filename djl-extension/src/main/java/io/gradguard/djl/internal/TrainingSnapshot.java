package io.gradguard.djl.internal;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one healthy copy of a run's parameters and optimizer state. Taking a new snapshot replaces the
 * previous one (its arrays are reused in place, or closed before new ones are made), so at most one
 * snapshot is alive. Restoring is bit-exact.
 *
 * <p>Optimizer state is captured generically, so DJL's optimizers (Sgd momentum, Nag, Adam, AdamW,
 * RmsProp, Adagrad, Adadelta) and a user's own subclass are covered alike: every {@code Map} field of the
 * optimizer's class chain is deep-copied (NDArray values copied, counters kept), and primitive fields
 * such as {@code numUpdate} are saved. Learning-rate trackers are left alone. A field of any other type
 * cannot be captured; it is listed by {@link #uncaptured()} and left as it is on rollback.
 */
public final class TrainingSnapshot implements AutoCloseable {

    private static final NDIndex ALL = new NDIndex("...");

    private final GradientInspector inspector;
    private final Optimizer optimizer;
    private final boolean onHost;
    private final NDArray[] params;
    private final Map<Field, Object> optimizerState = new LinkedHashMap<>();
    private final List<String> uncaptured = new ArrayList<>();
    private final List<Field> stateFields = new ArrayList<>();
    private long step = -1;

    /**
     * @param inspector the trainer's parameters
     * @param optimizer the trainer's optimizer, or null (parameters only)
     * @param onHost keep the copies in host memory instead of on the parameters' device
     */
    public TrainingSnapshot(GradientInspector inspector, Optimizer optimizer, boolean onHost) {
        this.inspector = inspector;
        this.optimizer = optimizer;
        this.onHost = onHost;
        this.params = new NDArray[inspector.size()];
        if (optimizer != null) {
            for (Field f : OptimizerAccess.fields(optimizer)) {
                Class<?> t = f.getType();
                if (ParameterTracker.class.isAssignableFrom(t) || Modifier.isFinal(f.getModifiers()) && !Map.class.isAssignableFrom(t)) {
                    continue;
                }
                if (Map.class.isAssignableFrom(t) || t.isPrimitive() || NDArray.class.isAssignableFrom(t)) {
                    f.setAccessible(true);
                    stateFields.add(f);
                } else if (!(t == String.class || Number.class.isAssignableFrom(t) || t == Boolean.class || t.isEnum())) {
                    uncaptured.add(f.getDeclaringClass().getSimpleName() + "." + f.getName() + " (" + t.getSimpleName() + ")");
                }
            }
        }
    }

    /** @return optimizer fields that cannot be captured (left as they are on rollback) */
    public List<String> uncaptured() {
        return uncaptured;
    }

    /** @return the step whose pre-update state this snapshot holds, or -1 */
    public long step() {
        return step;
    }

    /**
     * Copies the current parameters and optimizer state, replacing the previous snapshot.
     *
     * @param atStep the step (its update not yet applied)
     */
    public void take(long atStep) {
        for (int i = 0; i < params.length; i++) {
            // read through a view outside autograd: under an open GradientCollector a plain copy of a
            // parameter would join the graph
            try (NDArray src = inspector.copies(i)[0].stopGradient()) {
                if (!onHost && params[i] != null && params[i].getShape().equals(src.getShape())
                        && params[i].getDevice().equals(src.getDevice())) {
                    params[i].set(ALL, src);
                } else {
                    if (params[i] != null) {
                        params[i].close();
                    }
                    params[i] = copy(src);
                }
            }
        }
        for (Object old : optimizerState.values()) {
            closeDeep(old);
        }
        optimizerState.clear();
        try {
            for (Field f : stateFields) {
                Object v = f.get(optimizer);
                if (v instanceof Map<?, ?> m) {
                    optimizerState.put(f, copyMap(m));
                } else if (v instanceof NDArray a) {
                    optimizerState.put(f, new Held(copy(a), a.getDevice()));
                } else {
                    optimizerState.put(f, v);
                }
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("GradGuard cannot read the optimizer state", e);
        }
        step = atStep;
    }

    /** Restores parameters (every device copy) and optimizer state exactly as they were at {@link #take}. */
    @SuppressWarnings("unchecked")
    public void restore() {
        if (step < 0) {
            throw new IllegalStateException("no snapshot to restore");
        }
        for (int i = 0; i < params.length; i++) {
            for (NDArray target : inspector.copies(i)) {
                if (params[i].getDevice().equals(target.getDevice())) {
                    assign(target, params[i]);
                } else {
                    try (NDArray moved = params[i].toDevice(target.getDevice(), true)) {
                        assign(target, moved);
                    }
                }
            }
        }
        try {
            for (Map.Entry<Field, Object> e : optimizerState.entrySet()) {
                Field f = e.getKey();
                if (e.getValue() instanceof Map<?, ?> saved) {
                    Map<Object, Object> live = (Map<Object, Object>) f.get(optimizer);
                    if (live == null) {
                        continue;
                    }
                    for (Object v : live.values()) {
                        closeDeep(v);
                    }
                    live.clear();
                    live.putAll((Map<Object, Object>) materialize(saved));
                } else if (e.getValue() instanceof Held h) {
                    Object live = f.get(optimizer);
                    if (live instanceof NDArray a && a.getShape().equals(h.array.getShape())) {
                        if (a.getDevice().equals(h.array.getDevice())) {
                            a.set(ALL, h.array);
                        } else {
                            try (NDArray moved = h.array.toDevice(a.getDevice(), true)) {
                                a.set(ALL, moved);
                            }
                        }
                    } else {
                        f.set(optimizer, materialize(h));
                    }
                } else {
                    f.set(optimizer, e.getValue());
                }
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("GradGuard cannot restore the optimizer state", e);
        }
    }

    /** @return the bytes held by this snapshot */
    public long bytes() {
        long total = 0;
        for (NDArray p : params) {
            if (p != null) {
                total += p.size() * p.getDataType().getNumOfBytes();
            }
        }
        for (Object v : optimizerState.values()) {
            total += bytesDeep(v);
        }
        return total;
    }

    /** @return the number of arrays this snapshot holds (the test of "one snapshot at a time") */
    public int arrays() {
        int n = 0;
        for (NDArray p : params) {
            if (p != null) {
                n++;
            }
        }
        for (Object v : optimizerState.values()) {
            n += countDeep(v);
        }
        return n;
    }

    /** @return every array this snapshot holds */
    public List<NDArray> heldArrays() {
        List<NDArray> out = new ArrayList<>();
        for (NDArray p : params) {
            if (p != null) {
                out.add(p);
            }
        }
        for (Object v : optimizerState.values()) {
            collect(v, out);
        }
        return out;
    }

    /**
     * Writes {@code value} into a parameter in place, through a view outside autograd: a parameter is a leaf that
     * requires gradients, and PyTorch refuses in-place writes to one while gradients are recorded (a loop that
     * calls the guard inside its {@code GradientCollector}'s try block).
     */
    private static void assign(NDArray parameter, NDArray value) {
        try (NDArray view = parameter.stopGradient()) {
            view.set(ALL, value);
        }
    }

    private NDArray copy(NDArray src) {
        // toDevice to the array's own device may return an alias of it rather than a copy (PyTorch's
        // tensor.to), so a host snapshot of a CPU array is a duplicate too
        boolean move = onHost && !src.getDevice().equals(Device.cpu());
        NDArray c = move ? src.toDevice(Device.cpu(), true) : src.duplicate();
        c.detach();
        return c;
    }

    private Map<Object, Object> copyMap(Map<?, ?> m) {
        Map<Object, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            Object v = e.getValue();
            if (v instanceof NDArray a) {
                out.put(e.getKey(), new Held(copy(a), a.getDevice()));
            } else if (v instanceof Map<?, ?> inner) {
                out.put(e.getKey(), copyMap(inner));
            } else {
                out.put(e.getKey(), v);
            }
        }
        return out;
    }

    private static Object materialize(Object saved) {
        if (saved instanceof Held h) {
            NDArray a = h.array.getDevice().equals(h.device) ? h.array.duplicate() : h.array.toDevice(h.device, true);
            a.detach();
            return a;
        }
        if (saved instanceof Map<?, ?> m) {
            Map<Object, Object> out = new ConcurrentHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.put(e.getKey(), materialize(e.getValue()));
            }
            return out;
        }
        return saved;
    }

    private static void closeDeep(Object v) {
        if (v instanceof Held h) {
            h.array.close();
        } else if (v instanceof NDArray a) {
            a.close();
        } else if (v instanceof Map<?, ?> m) {
            m.values().forEach(TrainingSnapshot::closeDeep);
        }
    }

    private static long bytesDeep(Object v) {
        if (v instanceof Held h) {
            return h.array.size() * h.array.getDataType().getNumOfBytes();
        }
        if (v instanceof Map<?, ?> m) {
            long t = 0;
            for (Object o : m.values()) {
                t += bytesDeep(o);
            }
            return t;
        }
        return 0;
    }

    private static int countDeep(Object v) {
        List<NDArray> l = new ArrayList<>();
        collect(v, l);
        return l.size();
    }

    private static void collect(Object v, List<NDArray> out) {
        if (v instanceof Held h) {
            out.add(h.array);
        } else if (v instanceof Map<?, ?> m) {
            for (Object o : m.values()) {
                collect(o, out);
            }
        }
    }

    /** Frees every array of the snapshot. */
    @Override
    public void close() {
        for (int i = 0; i < params.length; i++) {
            if (params[i] != null) {
                params[i].close();
                params[i] = null;
            }
        }
        for (Object v : optimizerState.values()) {
            closeDeep(v);
        }
        optimizerState.clear();
        step = -1;
    }

    /** A copied state array and the device it came from. */
    private record Held(NDArray array, Device device) {}

    /**
     * Upper bound of a snapshot's size: the parameters plus, per parameter, as many arrays as the optimizer
     * has per-parameter state maps (Adam: 2, Sgd with momentum: 1).
     *
     * @param inspector the trainer's parameters
     * @param optimizer the optimizer, or null
     * @return bytes
     */
    static long estimateBytes(GradientInspector inspector, Optimizer optimizer) {
        long paramBytes = 0;
        for (int i = 0; i < inspector.size(); i++) {
            NDArray a = inspector.copies(i)[0];
            paramBytes += a.size() * a.getDataType().getNumOfBytes();
        }
        long stateMaps = optimizer == null ? 0 : OptimizerAccess.stateMapCount(optimizer);
        return paramBytes * (1 + stateMaps);
    }
}
