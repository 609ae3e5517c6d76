package io.gradguard.djl.doctor;

import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;

/**
 * A {@link SequentialBlock} whose children keep names chosen by the caller. DJL's {@code add} names the i-th child
 * {@code %02d<ClassName>}, so inserting a block would renumber every later child and rename its parameters; a fix that
 * rebuilds a sequence with this class keeps the existing names and gives inserted blocks new ones.
 */
final class NamedSequentialBlock extends SequentialBlock {

    /**
     * @param name the child's name (its parameters are named {@code name_<parameter>})
     * @param block the child
     * @return this
     */
    NamedSequentialBlock addNamed(String name, Block block) {
        children.add(name, block);
        return this;
    }
}
