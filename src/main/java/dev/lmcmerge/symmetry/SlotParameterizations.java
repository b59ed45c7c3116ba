package dev.lmcmerge.symmetry;

/**
 * Chooses the {@link Parameterization} of every slot kind for a model, so the spec table stays
 * free of parameterization choices (Cayley or matrix exponential for the residual rotation, ...).
 */
@FunctionalInterface
public interface SlotParameterizations {

    /** The parameterization of one element of a slot of {@code kind} for a model of {@code dims}. */
    Parameterization forKind(SlotKind kind, SpecDimensions dims);
}
