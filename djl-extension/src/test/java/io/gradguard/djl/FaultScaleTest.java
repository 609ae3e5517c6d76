package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import com.fasterxml.jackson.databind.JsonNode;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.Policy;
import io.gradguard.core.event.RunSummary;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.Reachability;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault suite, scale (PyTorch engine): two guarded trainers at once in two threads keep their decisions and logs
 * apart; a thousand guarded trainers created and closed in a row leave no NDArray, no native memory and no heap
 * behind; a guard and its trainer, once dropped, are garbage; a 100,000-step guarded run keeps its heap bounded.
 */
class FaultScaleTest {

    /** Half of the smallest native leak the test must see: the snapshot's parameter copy alone (256 KB per trainer). */
    private static final double LEAK_BOUND_KB = 128;
    /** Heap a guarded trainer may leave behind (a guard kept whole is about 1 MB at this width). */
    private static final double HEAP_BOUND_KB = 16;

    @TempDir
    Path dir;

    /**
     * Trains the deep MLP guarded. The engine's random generator is global and DJL's PyTorch engine lets one
     * {@code GradientCollector} collect at a time in a JVM, so two threads take turns ({@code engine}) to build and
     * initialize their models and for forward and backward, as any two-thread DJL app must; everything of the
     * guard (measure, decide, clip, snapshot, roll back) and the update run concurrently.
     */
    private static float deepMlp(Variant v, Path log, Lock engine) {
        ScenarioRun run;
        Trainer t;
        engine.lock();
        try {
            run = new DeepMlpScenario().open(v);
            t = run.newTrainer();
        } finally {
            engine.unlock();
        }
        try (run; t; DjlGuard guard = new DjlGuard(GuardConfig.custom().log(log).build())) {
            for (Batch batch : t.iterateDataset(run.dataset())) {
                try (batch) {
                    NDArray loss;
                    engine.lock();
                    try (GradientCollector c = t.newGradientCollector()) {
                        loss = t.getLoss().evaluate(batch.getLabels(), t.forward(batch.getData(), batch.getLabels()));
                        c.backward(loss);
                    } finally {
                        engine.unlock();
                    }
                    guard.step(t, loss);
                    loss.close();
                }
            }
            return run.evalLoss(t);
        } catch (IOException | TranslateException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<Long> steps(List<JsonNode> log) {
        return log.stream().filter(n -> n.path("type").asText().equals("step")).map(n -> n.path("step").asLong()).toList();
    }

    @Test
    void twoTrainersInTwoThreadsKeepTheirDecisionsApart() throws Exception {
        float soloExploding = deepMlp(Variant.EXPLODING, dir.resolve("solo-x.jsonl"), new ReentrantLock());
        float soloHealthy = deepMlp(Variant.REFERENCE, dir.resolve("solo-h.jsonl"), new ReentrantLock());
        Lock engine = new ReentrantLock();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Float> x = pool.submit(() -> deepMlp(Variant.EXPLODING, dir.resolve("x.jsonl"), engine));
            Future<Float> h = pool.submit(() -> deepMlp(Variant.REFERENCE, dir.resolve("h.jsonl"), engine));
            assertThat(x.get()).as("exploding, concurrent vs alone").isFinite().isEqualTo(soloExploding);
            assertThat(h.get()).as("healthy, concurrent vs alone").isEqualTo(soloHealthy);
        } finally {
            pool.shutdown();
        }
        assertThat(Train.bare(new DeepMlpScenario(), Variant.REFERENCE)).as("healthy unguarded").isEqualTo(soloHealthy);
        List<JsonNode> xl = Train.readLog(dir.resolve("x.jsonl"));
        List<JsonNode> hl = Train.readLog(dir.resolve("h.jsonl"));
        assertThat(Train.events(xl, "rollback")).isNotEmpty();
        assertThat(Train.events(hl, "rollback")).isEmpty();
        assertThat(Train.events(hl, "spike")).isEmpty();
        assertThat(steps(hl)).as("one record per step, in order, none from the other trainer")
                .isEqualTo(steps(Train.readLog(dir.resolve("solo-h.jsonl"))));
        assertThat(steps(xl)).isEqualTo(steps(Train.readLog(dir.resolve("solo-x.jsonl"))));
    }

    /**
     * One short guarded training: a {@code width} -> 1 linear model (its snapshot, parameters and momentum, takes
     * 8 x width bytes), a few steps, with a batch 1e4 times too large at step 3 that the guard must deal with.
     * The guard is called inside the {@code GradientCollector}'s try block, as many hand-written loops do.
     */
    private static RunSummary guardedRun(int width, int steps, float lr) {
        return run(width, steps, lr, GuardConfig.ofDefaults());
    }

    /** Like {@link #guardedRun}, under a given configuration (policy {@code off}: unguarded). */

    private static RunSummary run(int width, int steps, float lr, GuardConfig gc) {
        try (Model model = Model.newInstance("short")) {
            model.setBlock(Linear.builder().setUnits(1).build());
            DefaultTrainingConfig config = linearConfig(lr);
            try (Trainer t = model.newTrainer(config); DjlGuard guard = new DjlGuard(gc)) {
                train(t, guard, width, steps);
                return guard.summary();
            }
        }
    }

    private static DefaultTrainingConfig linearConfig(float lr) {
        return new DefaultTrainingConfig(Loss.l2Loss())
                .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(lr)).optMomentum(0.9f).build());
    }

    /** The loop of {@link #run}: random inputs, a batch 1e4 times too large at step 3. */
    private static void train(Trainer t, DjlGuard guard, int width, int steps) {
        t.initialize(new Shape(4, width));
        NDManager m = t.getManager();
        for (int s = 0; s < steps; s++) {
            try (NDManager step = m.newSubManager()) {
                NDArray x = step.randomNormal(new Shape(4, width)).mul(s == 3 ? 1e4f : 1f);
                NDArray y = x.sum(new int[] {1}, true);
                try (GradientCollector c = t.newGradientCollector()) {
                    NDArray loss = t.getLoss().evaluate(new NDList(y), t.forward(new NDList(x)));
                    c.backward(loss);
                    guard.step(t, loss);
                }
            }
        }
    }

    /**
     * Native memory in use, KB: the resident set minus what the JVM has committed for its heap and for its own
     * non-heap areas, so that the heap growing or shrinking between two readings does not count.
     */
    private static long nativeKb() throws IOException {
        long rss = -1;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        if (rss < 0) {
            throw new IllegalStateException("no VmRSS in /proc/self/status");
        }
        var mem = ManagementFactory.getMemoryMXBean();
        return rss - (mem.getHeapMemoryUsage().getCommitted() + mem.getNonHeapMemoryUsage().getCommitted()) / 1024;
    }

    /**
     * The loop calls the guard inside its {@code GradientCollector}'s try block, at a learning rate (1.5) whose loss
     * climbs from the first steps, so the guard rolls back there. Restoring parameters under autograd would throw ("a
     * leaf Variable that requires grad is being used in an in-place operation") and turn the guard off; the guard
     * restores them outside autograd, and is still guarding after the rollback.
     */
    @Test
    void aRollbackInsideTheGradientCollectorBlockWorks() {
        RunSummary s = guardedRun(4, 12, 1.5f);
        assertThat(s.rollbacks()).as("the guard rolled back").isPositive();
        assertThat(s.steps()).as("and was still guarding after it (not turned off by an error)").isEqualTo(12);
    }

    /**
     * A thousand guarded trainers and a thousand unguarded ones, created and closed in interleaved blocks of 100
     * (a 65,536 -> 1 linear model, SGD with momentum: a snapshot is 512 KB). DJL 0.36 itself keeps some native
     * memory per closed trainer, guarded or not (about 0.3-0.5 MB at this size); the guard must add nothing to that.
     * A leaked snapshot per trainer would add 512 KB each, in every block.
     *
     * <p>Measured in a JVM of its own ({@link NativeMemoryProbe}) whose heap is fixed and touched in full at start
     * ({@code -Xms = -Xmx}, {@code -XX:+AlwaysPreTouch}), so that the resident memory it gains is native memory. In
     * the test JVM itself the heap's resident pages come and go with the collector: resident memory minus the
     * committed heap swung by up to a gigabyte between two blocks of 100 trainers, which hid a leak of this size
     * and made the bound fail now and then with no leak at all. With the heap fixed, each block's growth stays
     * within about 0.3-0.5 MB per trainer, guarded or not. The probe also reads the heap the trainers left in use after
     * a collection: a guard kept alive whole is about 1 MB per trainer at this width, and with the heap at 512 MB,
     * a thousand of them end the probe with an {@code OutOfMemoryError}.
     */
    @Test
    void aThousandGuardedTrainersLeaveNothingBehind() throws IOException, InterruptedException {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path err = dir.resolve("probe.err");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dai.djl.offline=true",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=error", "-cp", classPath, NativeMemoryProbe.class.getName())
                .redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        System.out.println("native-memory probe: " + out.trim());
        assertThat(p.waitFor()).as("the probe's exit code (stdout: %s; stderr: %s)", out, Files.readString(err)).isZero();
        // one line per quantity: a key, then its numbers (see NativeMemoryProbe)
        Set<String> keys = Set.of("acted", "heap", "unguarded", "guarded");
        Map<String, double[]> r = out.lines().map(l -> l.trim().split("\\s+")).filter(w -> keys.contains(w[0]))
                .collect(Collectors.toMap(w -> w[0], w -> Arrays.stream(w, 1, w.length).mapToDouble(Double::parseDouble)
                        .toArray()));
        assertThat(r).as("the probe's output: %s", out).containsOnlyKeys(keys);
        double[][] kb = {r.get("unguarded"), r.get("guarded")};
        double heapUnguarded = r.get("heap")[0];
        double heapGuarded = r.get("heap")[1];
        assertThat(heapGuarded - heapUnguarded).as("heap KB per trainer the guard kept after a collection (unguarded"
                + " %s, guarded %s)", heapUnguarded, heapGuarded).isLessThan(HEAP_BOUND_KB);
        double unguarded = Arrays.stream(kb[0]).average().orElseThrow();
        double guarded = Arrays.stream(kb[1]).average().orElseThrow();
        assertThat((int) r.get("acted")[0]).as("guarded trainers that acted on their bad batch")
                .isEqualTo(NativeMemoryProbe.BLOCKS * NativeMemoryProbe.PER_BLOCK);
        assertThat(guarded - unguarded).as("KB per trainer the guard added (per block, unguarded %s, guarded %s)",
                Arrays.toString(kb[0]), Arrays.toString(kb[1])).isLessThan(LEAK_BOUND_KB);
    }

    /**
     * The measurement of {@link #aThousandGuardedTrainersLeaveNothingBehind}, run in a JVM of its own. Prints four
     * lines, {@code acted N}, {@code heap H0 H1}, {@code unguarded K1 .. K10}, {@code guarded K1 .. K10}: the guarded
     * trainers that acted on their bad batch, the heap the trainers of each kind left in use after a collection (KB
     * per trainer, from the end of the first block to the end of the last; unguarded, guarded), and each block's
     * growth of resident memory per trainer, KB.
     */
    static final class NativeMemoryProbe {

        static final int BLOCKS = 10;
        static final int PER_BLOCK = 100;

        private NativeMemoryProbe() {
        }

        private static long heapUsed() {
            return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        }

        /**
         * Collects until the heap stops shrinking. DJL's {@code Trainer} has a finalizer, so a closed trainer, and
         * whatever it still refers to (a guard's gate on its parameter server, and through it the guard), outlives
         * the first collection after it and goes only once the finalizer thread has run: one {@code System.gc()}
         * left the last 30-70 guarded trainers' guards in the heap.
         */
        private static void settle() throws InterruptedException {
            long last = Long.MAX_VALUE;
            for (int i = 0; i < 10; i++) {
                System.gc();
                System.runFinalization();
                Thread.sleep(10);
                long used = heapUsed();
                if (used > last - (1 << 20)) {
                    return;
                }
                last = used;
            }
        }

        /**
         * @param args none
         * @throws IOException if /proc/self/status cannot be read
         * @throws InterruptedException if interrupted while the heap settles
         */
        public static void main(String[] args) throws IOException, InterruptedException {
            int width = 1 << 16;
            GuardConfig off = GuardConfig.custom().policy(Policy.OFF).build();
            GuardConfig guarded = GuardConfig.ofDefaults();
            for (int i = 0; i < 20; i++) {
                run(width, 6, 1e-4f, off);
                run(width, 6, 1e-4f, guarded);
            }
            double[][] kb = new double[2][BLOCKS];
            long[][] heapAfter = new long[2][BLOCKS];
            int acted = 0;
            for (int block = 0; block < BLOCKS; block++) {
                for (int mode = 0; mode < 2; mode++) {
                    settle();
                    long before = nativeKb();
                    for (int i = 0; i < PER_BLOCK; i++) {
                        RunSummary s = run(width, 6, 1e-4f, mode == 0 ? off : guarded);
                        acted += mode == 1 && s.skipped() + s.rollbacks() > 0 ? 1 : 0;
                    }
                    settle();
                    kb[mode][block] = (nativeKb() - before) / (double) PER_BLOCK;
                    heapAfter[mode][block] = heapUsed();
                }
            }
            // heap growth per trainer, from the end of the first block of a kind to the end of its last
            StringBuilder sb = new StringBuilder("acted ").append(acted).append("\nheap");
            for (int mode = 0; mode < 2; mode++) {
                sb.append(' ').append((heapAfter[mode][BLOCKS - 1] - heapAfter[mode][0]) / 1024.0 / ((BLOCKS - 1) * PER_BLOCK));
            }
            for (int mode = 0; mode < 2; mode++) {
                sb.append(mode == 0 ? "\nunguarded" : "\nguarded");
                for (double k : kb[mode]) {
                    sb.append(' ').append(k);
                }
            }
            System.out.println(sb);
        }
    }

    /**
     * One guarded training of a {@code width} -> 1 linear model, as {@link #run} does, but handing out weak
     * references to its trainer and guard (index 0 and 1), optionally leaving the guard unclosed.
     */
    private static List<WeakReference<Object>> runAndLetGo(int width, boolean closeGuard) {
        try (Model model = Model.newInstance("let-go")) {
            model.setBlock(Linear.builder().setUnits(1).build());
            Trainer t = model.newTrainer(linearConfig(1e-4f));
            DjlGuard guard = new DjlGuard(GuardConfig.ofDefaults());
            try (t) {
                train(t, guard, width, 6);
                assertThat(guard.summary().skipped() + guard.summary().rollbacks()).as("the guard acted").isPositive();
            } finally {
                if (closeGuard) {
                    guard.close();
                }
            }
            return List.of(new WeakReference<>(t), new WeakReference<>(guard));
        }
    }

    /**
     * A guard that was closed, and its trainer, closed and dropped by the application, are garbage: nothing in
     * GradGuard keeps them (or the per-parameter state the guard held) alive. The registry of which guard owns a
     * trainer held each guard's session strongly, and the session the trainer, so every {@code DjlGuard} and
     * {@code GradGuardListener} ever used stayed in memory with its trainer: about 1 MB of heap per trainer of this
     * 65,536-input model, 100 MB per hundred trainers.
     */
    @Test
    void aClosedGuardAndItsTrainerAreLetGo() throws InterruptedException {
        List<WeakReference<Object>> refs = runAndLetGo(1 << 10, true);
        assertThat(Reachability.collected(refs)).as("trainer and guard collected after both were closed and dropped").isTrue();
    }

    /** The same when the application forgot to close the guard: dropping it and its trainer is enough. */
    @Test
    void aGuardLeftOpenDoesNotKeepItsTrainer() throws InterruptedException {
        List<WeakReference<Object>> refs = runAndLetGo(1 << 10, false);
        assertThat(Reachability.collected(refs)).as("trainer and guard collected after they were dropped, the guard unclosed").isTrue();
    }

    @Test
    void aHundredThousandStepRunKeepsItsHeapBounded() {
        long[] heapAt = new long[2];
        try (Model model = Model.newInstance("long")) {
            model.setBlock(Linear.builder().setUnits(1).build());
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.01f)).build());
            try (Trainer t = model.newTrainer(config);
                    DjlGuard guard = new DjlGuard(GuardConfig.custom().log(dir.resolve("long.jsonl")).build())) {
                t.initialize(new Shape(32, 2));
                NDManager m = t.getManager();
                for (int s = 0; s < 100_000; s++) {
                    try (NDManager step = m.newSubManager()) {
                        NDArray x = step.randomNormal(new Shape(32, 2));
                        NDArray y = x.sum(new int[] {1}, true);
                        try (GradientCollector c = t.newGradientCollector()) {
                            NDArray loss = t.getLoss().evaluate(new NDList(y), t.forward(new NDList(x)));
                            c.backward(loss);
                            guard.step(t, loss);
                        }
                    }
                    if (s == 10_000 || s == 99_999) {
                        System.gc();
                        heapAt[s == 10_000 ? 0 : 1] = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                    }
                }
                assertThat(guard.summary().steps()).isEqualTo(100_000);
            }
        }
        assertThat(heapAt[1] - heapAt[0]).as("heap grown from step 10,000 to 100,000, bytes").isLessThan(8L << 20);
    }
}
