package io.gradguard.djl.internal;

import ai.djl.training.ParameterServer;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener;
import io.gradguard.core.internal.Fields;
import java.util.List;

/**
 * Reaches the parts of a DJL {@link Trainer} that DJL does not expose: its {@link ParameterStore} (for
 * the per-device copies of each parameter), the store's {@link ParameterServer} (to gate the update) and
 * the listener list (to stand in for DJL's divergence check). Every accessor returns null, never
 * throws, when this DJL version is shaped differently; callers then fall back and warn. The fields it reads
 * are listed in {@link DjlShape#REQUIRED}.
 */
public final class TrainerAccess {

    private TrainerAccess() {}

    /**
     * @param trainer the trainer
     * @return its parameter store, or null
     */
    public static ParameterStore parameterStore(Trainer trainer) {
        return Fields.read(trainer, Trainer.class, "parameterStore") instanceof ParameterStore ps ? ps : null;
    }

    /**
     * @param store a parameter store
     * @return its parameter server, or null
     */
    public static ParameterServer parameterServer(ParameterStore store) {
        return Fields.read(store, ParameterStore.class, "parameterServer") instanceof ParameterServer s ? s : null;
    }

    /**
     * Replaces the store's parameter server.
     *
     * @param store the store
     * @param server the new server
     * @return true when replaced
     */
    public static boolean replaceParameterServer(ParameterStore store, ParameterServer server) {
        return Fields.write(store, ParameterStore.class, "parameterServer", server);
    }

    /**
     * @param trainer the trainer
     * @return its live listener list (the training config's list), or null
     */
    @SuppressWarnings("unchecked")
    public static List<TrainingListener> listeners(Trainer trainer) {
        return Fields.read(trainer, Trainer.class, "listeners") instanceof List<?> l ? (List<TrainingListener>) l : null;
    }
}
