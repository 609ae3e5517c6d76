package io.gradguard.core.internal;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Reads and writes the private fields of engine classes that the engines do not expose (a DJL trainer's
 * parameter store, a TensorFlow optimizer's {@code tf}), for the adapters and the agent. Each field is looked
 * up and made accessible once per (class, name) and cached; a field this version of the engine lacks, or one
 * that cannot be made accessible, is remembered as missing, and every accessor then answers null (or false)
 * instead of throwing, so the caller can fall back. The cache is held per class through a {@link ClassValue},
 * so it never keeps an application's class loader alive. Not part of the API.
 */
public final class Fields {

    /** Per class: its declared fields looked up so far, by name (empty: missing or not accessible). */
    private static final ClassValue<ConcurrentMap<String, Optional<Field>>> DECLARED = new ClassValue<>() {
        @Override
        protected ConcurrentMap<String, Optional<Field>> computeValue(Class<?> type) {
            return new ConcurrentHashMap<>();
        }
    };

    /** Per class: the instance fields of its class chain, subclass first. */
    private static final ClassValue<List<Field>> CHAIN = new ClassValue<>() {
        @Override
        protected List<Field> computeValue(Class<?> type) {
            List<Field> out = new ArrayList<>();
            for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    if (!Modifier.isStatic(f.getModifiers())) {
                        out.add(f);
                    }
                }
            }
            return List.copyOf(out);
        }
    };

    private Fields() {}

    /**
     * @param owner the class that declares the field
     * @param name the field's name
     * @return the field, made accessible, or null when {@code owner} declares no such field or it cannot be made
     *     accessible
     */
    public static Field find(Class<?> owner, String name) {
        return DECLARED.get(owner).computeIfAbsent(name, n -> lookUp(owner, n)).orElse(null);
    }

    private static Optional<Field> lookUp(Class<?> owner, String name) {
        try {
            Field f = owner.getDeclaredField(name);
            f.setAccessible(true);
            return Optional.of(f);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * @param target the object to read from
     * @param owner the class that declares the field ({@code target}'s class or a superclass of it)
     * @param name the field's name
     * @return the field's value, or null when it is missing or cannot be read
     */
    public static Object read(Object target, Class<?> owner, String name) {
        Field f = find(owner, name);
        if (f == null) {
            return null;
        }
        try {
            return f.get(target);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * @param target the object to write to
     * @param owner the class that declares the field
     * @param name the field's name
     * @param value the new value
     * @return true when written; false when the field is missing or cannot be written
     */
    public static boolean write(Object target, Class<?> owner, String name, Object value) {
        Field f = find(owner, name);
        if (f == null) {
            return false;
        }
        try {
            f.set(target, value);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The instance fields of a class and its superclasses, subclass first, as declared (not made accessible).
     *
     * @param type a class
     * @return its non-static fields and those of its superclasses up to, not including, {@code Object}
     */
    public static List<Field> instanceFields(Class<?> type) {
        return CHAIN.get(type);
    }

    /**
     * The shape check: which of the fields the code reads a class does not declare.
     *
     * @param owner the class
     * @param names the names of the fields the code reads from it
     * @return the names {@code owner} does not declare (or cannot open), in the order given; empty when it has them all
     */
    public static List<String> missing(Class<?> owner, Collection<String> names) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            if (find(owner, n) == null) {
                out.add(n);
            }
        }
        return out;
    }
}
