package io.gradguard.core.event;

import io.gradguard.core.GuardConfig;
import io.gradguard.core.RunInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One SLF4J line per event (logger {@code io.gradguard}), the effective config at start, totals at the end. */
public final class Slf4jEventLog implements GuardListener {

    private static final Logger LOG = LoggerFactory.getLogger("io.gradguard");

    @Override
    public void onRun(RunInfo info, GuardConfig config) {
        LOG.info("GradGuard guarding {} on {} ({} parameters, {}): {}", info.engine(), info.device(),
                info.parameters().size(), info.attachment(), config);
    }

    @Override
    public void onEvent(GuardEvent e) {
        switch (e.kind()) {
            case ABORT -> LOG.error("GradGuard {}", e);
            case SNAPSHOT -> LOG.debug("GradGuard {}", e);
            default -> LOG.warn("GradGuard {}", e);
        }
    }

    @Override
    public void onEnd(RunSummary s) {
        LOG.info("GradGuard run ended: {}", s);
    }
}
