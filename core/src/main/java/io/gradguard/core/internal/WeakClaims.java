package io.gradguard.core.internal;

import java.lang.ref.WeakReference;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * A thread-safe registry of claims on engine objects, shared by the API and the agent: which guard owns a DJL
 * trainer, which loss a TensorFlow optimizer was last asked to differentiate. Keys are held weakly and compared by
 * {@code equals}, as in a {@link WeakHashMap}. Values are held strongly ({@link #WeakClaims()}), or weakly too
 * ({@link #weakValues()}) where a value refers to its key: held strongly, such a value would keep its key, and itself,
 * alive for good (a DJL guard refers to its trainer). Every operation locks the one map, so a claim and its check
 * never interleave with another thread's. Not part of the API.
 *
 * @param <K> what is claimed
 * @param <V> who or what claims it
 */
public final class WeakClaims<K, V> {

    // values as given, or as WeakReference<V> when weakValues
    private final Map<K, Object> claims = Collections.synchronizedMap(new WeakHashMap<>());
    private final boolean weakValues;

    /** Claims whose values are held strongly: a value must not refer to its key. */
    public WeakClaims() {
        this(false);
    }

    private WeakClaims(boolean weakValues) {
        this.weakValues = weakValues;
    }

    /**
     * Claims whose values are held weakly as well: a claim lasts while something else keeps its holder alive.
     *
     * @param <K> what is claimed
     * @param <V> who or what claims it
     * @return an empty registry
     */
    public static <K, V> WeakClaims<K, V> weakValues() {
        return new WeakClaims<>(true);
    }

    private Object wrap(V value) {
        return weakValues ? new WeakReference<>(value) : value;
    }

    @SuppressWarnings("unchecked")
    private V unwrap(Object stored) {
        return (V) (weakValues && stored != null ? ((WeakReference<?>) stored).get() : stored);
    }

    /**
     * Claims {@code key} for {@code value} if nobody holds it yet.
     *
     * @param key what is claimed
     * @param value the claimant
     * @return true when {@code value} holds the claim now (it did already, or it took it)
     */
    public boolean claim(K key, V value) {
        synchronized (claims) {
            V current = unwrap(claims.get(key));
            if (current == null) {
                claims.put(key, wrap(value));
                return true;
            }
            return current == value;
        }
    }

    /**
     * Gives {@code key} to {@code value}, whoever held it.
     *
     * @param key what is claimed
     * @param value the new holder
     */
    public void put(K key, V value) {
        claims.put(key, wrap(value));
    }

    /**
     * @param key what is claimed
     * @return its holder, or null (never claimed, released, or, with weak values, the holder is gone)
     */
    public V get(K key) {
        return unwrap(claims.get(key));
    }

    /**
     * Drops the claim on {@code key} if {@code value} holds it (or, with weak values, its holder is gone).
     *
     * @param key what is claimed
     * @param value the holder
     */
    public void release(K key, V value) {
        synchronized (claims) {
            V current = unwrap(claims.get(key));
            if (current == value || current == null) {
                claims.remove(key);
            }
        }
    }
}
