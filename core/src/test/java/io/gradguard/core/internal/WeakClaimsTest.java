package io.gradguard.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link WeakClaims}, with strong and with weak values: first claim wins, a take-over replaces it, only the holder
 * releases; with weak values, a holder that refers to its key keeps neither alive.
 */
class WeakClaimsTest {

    private static WeakClaims<Object, Object> claims(boolean weakValues) {
        return weakValues ? WeakClaims.weakValues() : new WeakClaims<>();
    }

    @ParameterizedTest(name = "weak values: {0}")
    @ValueSource(booleans = {false, true})
    void theFirstClaimWinsATakeOverReplacesItAndOnlyTheHolderReleases(boolean weakValues) {
        WeakClaims<Object, Object> claims = claims(weakValues);
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

    @ParameterizedTest(name = "weak values: {0}")
    @ValueSource(booleans = {false, true})
    void oneOfManyThreadsClaimingAtOnceWins(boolean weakValues) throws Exception {
        WeakClaims<Object, Object> claims = claims(weakValues);
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

    /** A holder that refers to what it claims, as a DJL guard refers to its trainer. */
    private record Holder(Object key) {}

    @Test
    void withWeakValuesAHolderThatRefersToItsKeyKeepsNeitherAlive() throws InterruptedException {
        WeakClaims<Object, Object> claims = WeakClaims.weakValues();
        WeakClaims<Object, Object> strong = new WeakClaims<>();
        Object key = new Object();
        Object strongKey = new Object();
        claims.claim(key, new Holder(key));
        strong.claim(strongKey, new Holder(strongKey));
        WeakReference<Object> weakRef = new WeakReference<>(key);
        WeakReference<Object> strongRef = new WeakReference<>(strongKey);
        key = null;
        strongKey = null;
        for (int i = 0; i < 20 && weakRef.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertThat(weakRef.get()).as("key of a weak-valued claim collected").isNull();
        assertThat(strongRef.get()).as("with strong values the holder keeps its key (why weak values exist)").isNotNull();
        assertThat(strong.get(strongRef.get())).isNotNull();
    }
}
