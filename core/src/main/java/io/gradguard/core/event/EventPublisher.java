package io.gradguard.core.event;

import io.gradguard.core.GuardConfig;
import io.gradguard.core.RunInfo;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fans records out to listeners. A listener that throws is logged once and skipped for that record;
 * training goes on.
 */
public final class EventPublisher {

    private static final Logger LOG = LoggerFactory.getLogger(EventPublisher.class);

    private final List<GuardListener> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean warned;

    /**
     * @param listener a listener to add
     */
    public void add(GuardListener listener) {
        listeners.add(listener);
    }

    /** @return true when at least one listener is registered (records need not be built otherwise) */
    public boolean hasListeners() {
        return !listeners.isEmpty();
    }

    void each(Consumer<GuardListener> call) {
        for (GuardListener l : listeners) {
            try {
                call.accept(l);
            } catch (RuntimeException | Error e) {
                if (e instanceof VirtualMachineError vme) {
                    throw vme;
                }
                if (!warned) {
                    warned = true;
                    LOG.warn("GradGuard listener {} threw; training goes on (further failures logged at debug)",
                            l.getClass().getName(), e);
                } else {
                    LOG.debug("GradGuard listener {} threw", l.getClass().getName(), e);
                }
            }
        }
    }

    /**
     * @param info the run
     * @param config the configuration
     */
    public void run(RunInfo info, GuardConfig config) {
        each(l -> l.onRun(info, config));
    }

    /**
     * @param r the step record
     */
    public void step(StepRecord r) {
        each(l -> l.onStep(r));
    }

    /**
     * @param r the layer record
     */
    public void layers(LayerRecord r) {
        each(l -> l.onLayers(r));
    }

    /**
     * @param e the event
     */
    public void event(GuardEvent e) {
        each(l -> l.onEvent(e));
    }

    /**
     * @param s the summary
     */
    public void end(RunSummary s) {
        each(l -> l.onEnd(s));
    }
}
