package io.gradguard.djl.doctor;

import ai.djl.nn.Block;
import java.util.List;

/**
 * What a {@link StructureFix} did.
 *
 * @param fix the fix's name
 * @param block the fixed model: the block passed in (changed in place) or a new root holding its children
 * @param changedParameters names of the existing parameters whose values were overwritten, in model order
 * @param addedBlocks names (paths from the root) of the blocks the fix inserted
 * @param namesKept true when every parameter that existed before keeps its name
 * @param summary one sentence: what changed
 */
public record FixResult(String fix, Block block, List<String> changedParameters, List<String> addedBlocks,
        boolean namesKept, String summary) {}
