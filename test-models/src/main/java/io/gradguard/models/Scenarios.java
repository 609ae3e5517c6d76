package io.gradguard.models;

import java.util.List;
import java.util.stream.Collectors;

/** The scenario zoo. */
public final class Scenarios {

    private Scenarios() {}

    /** @return every scenario, in a fixed order */
    public static List<Scenario> all() {
        return List.of(new DeepMlpScenario(), new CorruptedBatchScenario(), new RnnAdditionScenario(), new AdamOvershootScenario(),
                new DeepMlpScenario(0.02f, 5f, false), new AttentionWarmupScenario(), new BadInitScenario(),
                new RelativeErrorScenario(), new FeatureScaleScenario());
    }

    /**
     * Finds a scenario by its {@link Scenario#name()}.
     *
     * @param name the name
     * @return the scenario
     * @throws IllegalArgumentException naming the known scenarios when there is none of that name
     */
    public static Scenario byName(String name) {
        return all().stream()
                .filter(s -> s.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException(
                        "no scenario named '" + name + "'; known: " + names()));
    }

    /** @return the names of all scenarios */
    public static String names() {
        return all().stream().map(Scenario::name).collect(Collectors.joining(", "));
    }
}
