package io.gradguard.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.models.CorruptedBatchScenario;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The recovery harness on one scenario for a few steps, every policy: it must keep running. */
class RecoveryBenchmarkSmokeTest {

    @Test
    void everyPolicyRunsAndTheTableRenders() {
        Map<String, Map<String, RecoveryBenchmark.Cell>> table = RecoveryBenchmark.run(
                List.of(new CorruptedBatchScenario()), RecoveryBenchmark.policies(), 20, 2);
        Map<String, RecoveryBenchmark.Cell> row = table.get("corrupted-batch-adam");
        assertThat(row.keySet()).containsExactly("reference", "none", "djl-optClipGrad-1.0", "fixed-norm-1.0",
                "autoclip-p10", "zclip", "agc-0.01", "gradguard-auto");
        // 20 steps end before the corrupted batch: every policy trains as the reference does, finite
        row.values().forEach(c -> assertThat(c.loss()).isFinite());
        // TensorFlow Java: the same columns, a few steps
        Map<String, RecoveryBenchmark.Cell> tf = TfRecovery.momentumRow(RecoveryBenchmark.policies(), 15);
        assertThat(tf.get("djl-optClipGrad-1.0").render()).isEqualTo("n/a");
        assertThat(tf.get("agc-0.01").render()).isEqualTo("n/a");
        for (String k : List.of("reference", "none", "fixed-norm-1.0", "autoclip-p10", "zclip", "gradguard-auto")) {
            assertThat(tf.get(k).loss()).as(k).isFinite();
        }
        table.put("tf", tf);
        String md = RecoveryBenchmark.markdown(table, RecoveryBenchmark.policies());
        assertThat(md).contains("| `corrupted-batch-adam` |").contains("| `tf` |").contains("gradguard-auto");
    }

    @Test
    void theOverheadHarnessRunsEveryVariantOnATinyModel() {
        // structure only: no timing is asserted (this machine is noisy; the ratios live in RESULTS.md)
        OverheadBenchmark.Row row = OverheadBenchmark.measure("tiny", 2, 8, 5);
        assertThat(row.keys()).containsExactly("unguarded", "unguarded again (A/A)", "naive-loop", "read pass only", "monitor", "clip", "auto");
        assertThat(row.tensors()).isEqualTo(6);
        assertThat(row.pairedMedian()[0]).isEqualTo(1.0);
        for (double r : row.pairedMedian()) {
            assertThat(r).isPositive().isFinite();
        }
        assertThat(row.snapshotMs()).isPositive().isFinite();
        assertThat(OverheadBenchmark.markdown(java.util.List.of(row), 5)).contains("| tiny | 6 |");
    }
}
