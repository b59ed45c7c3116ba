package dev.lmcmerge.symmetry;

import dev.lmcmerge.config.LmcException;
import java.util.Locale;

/**
 * The parameterization of every slot kind (DESIGN.md section 4, "Parameterizations"):
 * residual rotation by Cayley or matrix exponential (fixing the all-ones direction for
 * LayerNorm models), residual scale exp(s), permutations hard with a straight-through
 * gradient, qk maps commuting with RoPE (any invertible map where there is none), vo maps in
 * polar form, FFN scales exp(u).
 */
public final class StandardParameterizations implements SlotParameterizations {

    /** How the residual rotation is generated from its skew-symmetric parameter. */
    public enum RotationForm {
        CAYLEY, EXPM;

        /**
         * Parses {@code cayley} or {@code expm}.
         *
         * @param where the flag or key, for the error message
         */
        public static RotationForm parse(String s, String where) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw LmcException.usage(where, "unknown rotation parameterization \"" + s + "\"; expected cayley or expm");
            }
        }
    }

    private final RotationForm rotation;

    public StandardParameterizations(RotationForm rotation) {
        this.rotation = rotation;
    }

    /** Cayley residual rotation. */
    public static StandardParameterizations cayley() {
        return new StandardParameterizations(RotationForm.CAYLEY);
    }

    @Override
    public Parameterization forKind(SlotKind kind, SpecDimensions d) {
        return switch (kind) {
            case RESIDUAL_ROTATION -> rotation == RotationForm.CAYLEY
                    ? new CayleyOrthogonal(d.hidden(), d.layerNorm())
                    : new ExpmOrthogonal(d.hidden(), d.layerNorm());
            case RESIDUAL_SCALE -> new ResidualScale();
            case HEAD_GROUPS -> new Permutation(d.kvHeads());
            case HEADS_IN_GROUP -> new Permutation(d.groupSize());
            case QK -> new RopeCommutingMap(d.headDim(), d.rotaryDim());
            case VO -> new PolarInvertible(d.headDim());
            case FFN_PERMUTATION -> new Permutation(d.ffn());
            case FFN_SCALE -> new PositiveScale(d.ffn());
        };
    }
}
