package io.gradguard.core.internal;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * A thread-safe registry of claims on engine objects, shared by the API and the agent: which loss a TensorFlow
 * optimizer was last asked to differentiate. Keys are held weakly and compared by {@code equals}, as in a
 * {@link WeakHashMap}; values are held strongly, so a value must not refer to its key (it would keep the key,
 * and itself, alive for good: DJL's trainer claims, whose owners refer to their trainers, hold both weakly). Every operation locks the one map, so a claim and its check never interleave with
 * another thread's. Not part of the API.
 *
 * @param <K> what is claimed
 * @param <V> who or what claims it
 */
public final class WeakClaims<K, V> {

    private final Map<K, V> claims = Collections.synchronizedMap(new WeakHashMap<>());

    /**
     * Claims {@code key} for {@code value} if nobody holds it yet.
     *
     * @param key what is claimed
     * @param value the claimant
     * @return true when {@code value} holds the claim now (it did already, or it took it)
     */
    public boolean claim(K key, V value) {
        synchronized (claims) {
            V current = claims.putIfAbsent(key, value);
            return current == null || current == value;
        }
    }

    /**
     * Gives {@code key} to {@code value}, whoever held it.
     *
     * @param key what is claimed
     * @param value the new holder
     */
    public void put(K key, V value) {
        claims.put(key, value);
    }

    /**
     * @param key what is claimed
     * @return its holder, or null
     */
    public V get(K key) {
        return claims.get(key);
    }

    /**
     * Drops the claim on {@code key} if {@code value} holds it.
     *
     * @param key what is claimed
     * @param value the holder
     */
    public void release(K key, V value) {
        synchronized (claims) {
            if (claims.get(key) == value) {
                claims.remove(key);
            }
        }
    }
}
