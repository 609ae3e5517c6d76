package io.gradguard.core;

import java.util.Locale;

/** Where the guard keeps its healthy snapshot of parameters and optimizer state. */
public enum SnapshotLocation {
    /** On the parameters' device: fastest to take and restore, costs device memory. */
    DEVICE,
    /** In host memory: saves device memory, costs a device-to-host copy per snapshot. */
    HOST;

    /** @return the lower-case name used in configuration text */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @param text {@code device} or {@code host}, any case
     * @return the location
     * @throws IllegalArgumentException for anything else
     */
    public static SnapshotLocation parse(String text) {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
    }
}
