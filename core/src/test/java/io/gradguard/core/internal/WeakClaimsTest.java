package io.gradguard.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link WeakClaims}: first claim wins, a take-over replaces it, only the holder releases. */
class WeakClaimsTest {

    @Test
    void theFirstClaimWinsATakeOverReplacesItAndOnlyTheHolderReleases() {
        WeakClaims<Object, Object> claims = new WeakClaims<>();
        Object trainer = new Object();
        Object agent = new Object();
        Object app = new Object();
        assertThat(claims.claim(trainer, agent)).isTrue();
        assertThat(claims.claim(trainer, agent)).as("claimed again by its holder").isTrue();
        assertThat(claims.claim(trainer, app)).isFalse();
        claims.put(trainer, app);
        assertThat(claims.get(trainer)).isSameAs(app);
        claims.release(trainer, agent);
        assertThat(claims.get(trainer)).as("not the holder: nothing released").isSameAs(app);
        claims.release(trainer, app);
        assertThat(claims.get(trainer)).isNull();
        assertThat(claims.claim(trainer, agent)).isTrue();
    }

    @Test
    void oneOfManyThreadsClaimingAtOnceWins() throws Exception {
        WeakClaims<Object, Object> claims = new WeakClaims<>();
        Object trainer = new Object();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> wins = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                Object me = new Object();
                wins.add(pool.submit(() -> claims.claim(trainer, me)));
            }
            int won = 0;
            for (Future<Boolean> f : wins) {
                won += f.get(10, TimeUnit.SECONDS) ? 1 : 0;
            }
            assertThat(won).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }
}
