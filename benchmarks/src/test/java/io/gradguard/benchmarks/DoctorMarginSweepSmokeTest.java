package io.gradguard.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A smoke run of the margin sweep on the real engine: the tuning split's first six DJL healthy twins (read from
 * {@code family-tuning.csv}), the doctor consulted at two change margins without the stuck rule and at one with it, at
 * stuck margin 0 and at the default. The sixth,
 * a residual net without normalization ({@code s1005}), is the one whose verdict the margin decides: its Fixup trial
 * ends at a seventh of the model as it is, so 0.5 changes it and 8 does not; followed for its planned steps, the change
 * ends 0.74x the model as it is. The first, a 13-layer LeCun-initialized ReLU MLP ({@code s1000}), does not learn in its
 * trial: at stuck margin 0 the stuck rule re-initializes it (He) at any change margin, and followed it ends 0.85x; He
 * led its trial by 2.4%, so at the default stuck margin (5%) it is left alone.
 */
class DoctorMarginSweepSmokeTest {

    @Test
    void theMarginsDecideWhichHealthyModelsAreChanged() throws Exception {
        PrintStream out = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            DoctorMarginSweep.main(new String[] {"--split=tuning --healthy=6 --structural=0 --no-zoo --values=0.5:no-stuck,8:no-stuck,8:stuck=0,8"});
        } finally {
            System.setOut(out);
        }
        String md = buffer.toString(StandardCharsets.UTF_8);
        assertThat(md).contains("## Structure doctor: where the stuck margin comes from (tuning split)")
                .contains("| 0.5, `no-stuck` | 5 of 6 | 1 / 0 | 0 of 0 |")
                .contains("| 8, `no-stuck` | 6 of 6 | 0 / 0 | 0 of 0 |")
                .contains("| 8, stuck margin 0 | 5 of 6 | 1 / 0 | 0 of 0 |").contains("| 8 | 6 of 6 | 0 / 0 | 0 of 0 |")
                .contains("- 0.5, `no-stuck`: `s1005-res6x64-gelu-he-momentum-cls6` fixup-zero 0.74x")
                .contains("- 8, `no-stuck`: none")
                .contains("- 8, stuck margin 0: `s1000-mlp13x16-relu-lecun-momentum-cos-cls7` he-init 0.85x")
                .contains("- 8: none");
    }
}
