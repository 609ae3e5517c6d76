package io.gradguard.core.internal;

import java.util.Collection;
import java.util.Map;

/**
 * A minimal JSON builder for one-line records. Non-finite numbers are written as the strings
 * {@code "NaN"}, {@code "Infinity"} and {@code "-Infinity"} so that every line stays valid JSON.
 * Not part of the API.
 */
public final class Json {

    private final StringBuilder sb = new StringBuilder(128);
    private boolean first = true;

    /** Starts an object. */
    public Json() {
        sb.append('{');
    }

    private Json key(String key) {
        if (!first) {
            sb.append(',');
        }
        first = false;
        string(sb, key);
        sb.append(':');
        return this;
    }

    /**
     * @param key the field
     * @param value a string, or null
     * @return this
     */
    public Json put(String key, String value) {
        key(key);
        if (value == null) {
            sb.append("null");
        } else {
            string(sb, value);
        }
        return this;
    }

    /**
     * @param key the field
     * @param value a number; non-finite values become strings
     * @return this
     */
    public Json put(String key, double value) {
        key(key);
        number(sb, value);
        return this;
    }

    /**
     * @param key the field
     * @param value an integer
     * @return this
     */
    public Json put(String key, long value) {
        key(key);
        sb.append(value);
        return this;
    }

    /**
     * @param key the field
     * @param value a boolean
     * @return this
     */
    public Json put(String key, boolean value) {
        key(key);
        sb.append(value);
        return this;
    }

    /**
     * @param key the field
     * @param value a nested object, already built
     * @return this
     */
    public Json put(String key, Json value) {
        key(key);
        sb.append(value.toString());
        return this;
    }

    /**
     * Writes any value: null, String, Number, Boolean, Json, Map (string keys) or Collection.
     *
     * @param key the field
     * @param value the value
     * @return this
     */
    public Json putAny(String key, Object value) {
        key(key);
        any(sb, value);
        return this;
    }

    /**
     * A names-to-numbers object.
     *
     * @param key the field
     * @param names the names
     * @param values the numbers, same order
     * @return this
     */
    public Json putNumbers(String key, java.util.List<String> names, double[] values) {
        key(key);
        sb.append('{');
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            string(sb, names.get(i));
            sb.append(':');
            number(sb, values[i]);
        }
        sb.append('}');
        return this;
    }

    @Override
    public String toString() {
        return sb + "}";
    }

    private static void any(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Json j) {
            sb.append(j);
        } else if (v instanceof Double || v instanceof Float) {
            number(sb, ((Number) v).doubleValue());
        } else if (v instanceof Number || v instanceof Boolean) {
            sb.append(v);
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean f = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!f) {
                    sb.append(',');
                }
                f = false;
                string(sb, String.valueOf(e.getKey()));
                sb.append(':');
                any(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof Collection<?> c) {
            sb.append('[');
            boolean f = true;
            for (Object o : c) {
                if (!f) {
                    sb.append(',');
                }
                f = false;
                any(sb, o);
            }
            sb.append(']');
        } else {
            string(sb, v.toString());
        }
    }

    private static void number(StringBuilder sb, double v) {
        if (Double.isNaN(v)) {
            sb.append("\"NaN\"");
        } else if (Double.isInfinite(v)) {
            sb.append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        } else if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            sb.append((long) v).append(".0");
        } else {
            sb.append(v);
        }
    }

    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
