package io.gradguard.djl.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Adam;
import ai.djl.training.optimizer.Optimizer;
import io.gradguard.core.GuardConfig;
import io.gradguard.djl.DjlGuard;
import io.gradguard.models.CorruptedBatchScenario;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Snapshots on the real PyTorch engine: bit-exact restore, one snapshot alive, arrays on the right device. */
class TrainingSnapshotTest {

    private static float[][] hostParams(GradientInspector insp) {
        float[][] out = new float[insp.size()][];
        for (int i = 0; i < insp.size(); i++) {
            out[i] = insp.copies(i)[0].toFloatArray();
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, float[]> hostAdamState(Optimizer opt) throws ReflectiveOperationException {
        Map<String, float[]> out = new HashMap<>();
        for (String name : List.of("means", "variances")) {
            Field f = Adam.class.getDeclaredField(name);
            f.setAccessible(true);
            Map<String, Map<Device, NDArray>> m = (Map<String, Map<Device, NDArray>>) f.get(opt);
            m.forEach((id, byDevice) -> byDevice.forEach((d, a) -> out.put(name + "/" + id + "/" + d, a.toFloatArray())));
        }
        Field counts = Optimizer.class.getDeclaredField("updateCounts");
        counts.setAccessible(true);
        ((Map<String, Integer>) counts.get(opt)).forEach((k, v) -> out.put("count/" + k, new float[] {v}));
        Field num = Optimizer.class.getDeclaredField("numUpdate");
        num.setAccessible(true);
        out.put("numUpdate", new float[] {num.getInt(opt)});
        return out;
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "on host: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void restoreIsBitExactForParametersAndAdamState(boolean onHost) throws Exception {
        try (ScenarioRun run = new CorruptedBatchScenario().open(Variant.REFERENCE); Trainer t = run.newTrainer()) {
            run.trainByHand(t, (tr, loss) -> tr.step(), 20);
            Optimizer opt = OptimizerAccess.optimizer(t);
            GradientInspector insp = new GradientInspector(t);
            try (TrainingSnapshot snap = new TrainingSnapshot(insp, opt, onHost)) {
                snap.take(20);
                assertThat(snap.uncaptured()).isEmpty();
                float[][] params = hostParams(insp);
                Map<String, float[]> state = hostAdamState(opt);
                assertThat(state).hasSizeGreaterThan(2 * insp.size());

                // five more steps with poisoned (NaN) gradients wreck parameters and Adam's moments
                run.trainByHand(t, (tr, loss) -> {
                    insp.forEachGradient(g -> g.muli(Float.NaN));
                    tr.step();
                }, 5);
                assertThat(Float.isNaN(insp.copies(0)[0].toFloatArray()[0])).isTrue();
                assertThat(hostAdamState(opt).get("numUpdate")[0]).isEqualTo(state.get("numUpdate")[0] + 5);

                snap.restore();
                float[][] restored = hostParams(insp);
                for (int i = 0; i < params.length; i++) {
                    assertThat(restored[i]).as(insp.describe().get(i).name()).isEqualTo(params[i]);
                }
                Map<String, float[]> restoredState = hostAdamState(opt);
                assertThat(restoredState.keySet()).isEqualTo(state.keySet());
                state.forEach((k, v) -> assertThat(restoredState.get(k)).as(k).isEqualTo(v));

                // and training goes on from there
                run.trainByHand(t, (tr, loss) -> tr.step(), 5);
                assertThat(run.evalLoss(t)).isFinite();
            }
        }
    }

    @Test
    void guardRollbackRestoresTheSnapshotExactly() {
        try (ScenarioRun run = new DeepMlpScenario().open(Variant.REFERENCE);
                Trainer t = run.newTrainer();
                DjlGuard guard = new DjlGuard(GuardConfig.ofDefaults())) {
            GradientInspector insp = new GradientInspector(t);
            List<float[][]> before = new ArrayList<>();
            int[] step = {0};
            run.trainByHand(t, (tr, loss) -> {
                before.add(hostParams(insp));
                if (step[0] >= 60) {
                    insp.forEachGradient(g -> g.muli(Float.NaN));
                }
                guard.step(tr, loss);
                step[0]++;
            }, 63);
            // the last snapshot the guard took before the poisoned steps (where depends on the loss's progress)
            int snapshot = (int) guard.guard().snapshotStep();
            assertThat(snapshot).isBetween(0, 59);
            assertThat(guard.summary().rollbacks()).isEqualTo(1);
            float[][] now = hostParams(insp);
            float[][] atSnapshot = before.get(snapshot);
            for (int i = 0; i < now.length; i++) {
                assertThat(now[i]).isEqualTo(atSnapshot[i]);
            }
            assertThat(guard.guard().lrScale()).isEqualTo(GuardConfig.DEFAULT_ROLLBACK_CUT);
        }
    }

    @Test
    void onlyOneSnapshotIsAliveAndItLivesOnTheParametersDevice() {
        try (ScenarioRun run = new CorruptedBatchScenario().open(Variant.REFERENCE); Trainer t = run.newTrainer()) {
            Optimizer opt = OptimizerAccess.optimizer(t);
            GradientInspector insp = new GradientInspector(t);
            for (boolean onHost : new boolean[] {false, true}) {
                try (TrainingSnapshot snap = new TrainingSnapshot(insp, opt, onHost)) {
                    run.trainByHand(t, (tr, loss) -> tr.step(), 3);
                    snap.take(0);
                    int arrays = snap.arrays();
                    long bytes = snap.bytes();
                    assertThat(arrays).isEqualTo(3 * insp.size() + 0);
                    List<NDArray> previous = snap.heldArrays();
                    for (int k = 1; k <= 4; k++) {
                        run.trainByHand(t, (tr, loss) -> tr.step(), 2);
                        snap.take(k);
                        assertThat(snap.arrays()).isEqualTo(arrays);
                        assertThat(snap.bytes()).isEqualTo(bytes);
                        List<NDArray> held = snap.heldArrays();
                        for (NDArray old : previous) {
                            boolean reused = held.stream().anyMatch(a -> a == old);
                            assertThat(reused || old.isReleased()).as("old snapshot array freed or reused").isTrue();
                        }
                        previous = held;
                    }
                    for (int i = 0; i < insp.size(); i++) {
                        Device expected = onHost ? Device.cpu() : insp.copies(i)[0].getDevice();
                        assertThat(snap.heldArrays().get(i).getDevice()).isEqualTo(expected);
                    }
                    assertThat(snap.heldArrays()).allSatisfy(a -> assertThat(a.getDevice())
                            .isEqualTo(onHost ? Device.cpu() : insp.device()));
                }
            }
        }
    }
}
