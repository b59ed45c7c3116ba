package dev.lmcmerge.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.data.TokenDataset;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Canonicalizer;
import dev.lmcmerge.symmetry.ExactnessCheck;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.StandardParameterizations;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformEngine;
import dev.lmcmerge.symmetry.TransformSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs one alignment method on a pair of models and returns the ends of its merge path:
 * <ul>
 *   <li>{@code naive}: the original weights, no alignment;</li>
 *   <li>{@code weight-matching}: canonical A and canonical B under the weight-matching transform;</li>
 *   <li>{@code activation-matching}: canonical B under the activation-matching transform (from
 *       {@code activationBatches} training batches);</li>
 *   <li>{@code one-sided} / {@code dual}: learned matching started from weight matching. B's
 *       weight-matching transform is applied to its canonical weights first and the learned
 *       transforms start at the identity of that matched model: the same starting point as
 *       initializing every parameterization at the matched element (an O0 / P0 initializer), and
 *       the rotation parameters start in the well-conditioned neighbourhood of the identity.</li>
 * </ul>
 * Every transformed endpoint is checked against its original (max |logit difference| at most
 * {@code selfCheckTolerance} on a training batch) before it is returned.
 */
public final class Alignment {
    private Alignment() {
    }

    /** The methods, with their command-line names. */
    public enum Method {
        NAIVE, WEIGHT_MATCHING, ACTIVATION_MATCHING, ONE_SIDED, DUAL;

        public String key() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Method parse(String s, String where) {
            for (Method m : values()) {
                if (m.key().equals(s.trim().toLowerCase(Locale.ROOT))) {
                    return m;
                }
            }
            throw LmcException.usage(where, "unknown method '" + s
                    + "'; expected naive, weight-matching, activation-matching, one-sided or dual");
        }

        /** True for the methods that learn (need training data and steps). */
        public boolean learned() {
            return this == ONE_SIDED || this == DUAL;
        }
    }

    /**
     * @param groups                   symmetry groups the methods may use
     * @param learnedGroups            groups learned matching optimizes (a subset of {@code groups}; the
     *                                 others stay at their weight-matching value)
     * @param rotation                 parameterization of the residual rotation
     * @param weightMatchingIterations bound on weight matching's alternating rounds
     * @param activationBatches        training batches activation matching reads
     * @param learned                  learned-matching options (its mode is set by the method)
     * @param selfCheckTolerance       largest allowed max |logit difference| of a transformed endpoint
     */
    public record Settings(Set<SlotGroup> groups, Set<SlotGroup> learnedGroups, StandardParameterizations.RotationForm rotation,
                           int weightMatchingIterations, int activationBatches, LearnedMatching.Options learned,
                           double selfCheckTolerance) {
        public static Settings defaults(int steps, int batchSize, long seed) {
            return new Settings(SlotGroup.all(), SlotGroup.all(), StandardParameterizations.RotationForm.CAYLEY, 15, 4,
                    LearnedMatching.Options.defaults(LearnedMatching.Mode.DUAL, steps, 1e-2, batchSize, seed), 1e-3);
        }

        public Settings {
            if (!groups.containsAll(learnedGroups)) {
                throw LmcException.usage("align.learned-symmetries", "learned groups " + learnedGroups
                        + " must be a subset of the symmetry groups " + groups);
            }
        }

        public Settings withLearned(LearnedMatching.Options o) {
            return new Settings(groups, learnedGroups, rotation, weightMatchingIterations, activationBatches, o,
                    selfCheckTolerance);
        }

        /** Both matching and learning use {@code g}. */
        public Settings withGroups(Set<SlotGroup> g) {
            return new Settings(g, g, rotation, weightMatchingIterations, activationBatches, learned, selfCheckTolerance);
        }

        public Settings withLearnedGroups(Set<SlotGroup> g) {
            return new Settings(groups, g, rotation, weightMatchingIterations, activationBatches, learned, selfCheckTolerance);
        }
    }

    /**
     * Aligns {@code a} and {@code b} (original weights of one architecture, kept open by the caller).
     *
     * @param train training sequences (learned and activation matching; may be null for the others)
     * @param log   progress lines, or null
     */
    public static Endpoints align(Method method, Architecture arch, Weights a, Weights b, TokenDataset train,
                                  Settings s, Consumer<String> log) {
        if (method == Method.NAIVE) {
            return new Endpoints(method.key(), arch, a, b, 1, 1);
        }
        if ((method.learned() || method == Method.ACTIVATION_MATCHING) && (train == null || train.isEmpty())) {
            throw LmcException.usage("--train-data", "method " + method.key() + " needs training sequences");
        }
        TransformSpec spec = TransformSpec.forArchitecture(arch, new StandardParameterizations(s.rotation()));
        Weights canonA = Canonicalizer.canonicalize(spec, a);
        Weights canonB = Canonicalizer.canonicalize(spec, b);
        NDManager work = canonA.manager().newSubManager();
        List<AutoCloseable> owned = new ArrayList<>(List.of(canonA, canonB, work));
        try {
            Endpoints e;
            if (method == Method.ACTIVATION_MATCHING) {
                List<NDArray> batches = new ArrayList<>();
                int n = Math.min(s.activationBatches(), train.numBatches(s.learned().batchSize()));
                for (int i = 0; i < n; i++) {
                    batches.add(train.batch(work, i, s.learned().batchSize()));
                }
                ActivationMatching.Result r = ActivationMatching.match(spec, arch, canonA, canonB, batches, s.groups(), work);
                Weights tb = TransformEngine.apply(spec, r.transform(), canonB);
                owned.add(tb);
                e = new Endpoints(method.key(), arch, canonA, tb, 1, r.transform().epsScale());
            } else {
                WeightMatching.Result wm = WeightMatching.match(spec, canonA, canonB, s.groups(),
                        s.weightMatchingIterations(), work);
                if (log != null) {
                    log.accept(String.format(Locale.ROOT, "weight matching: ||W_B - W_A||^2 %.4g -> %.4g in %d rounds",
                            wm.distanceBefore(), wm.distanceAfter(), wm.rounds()));
                }
                Weights matchedB = TransformEngine.apply(spec, wm.transform(), canonB);
                owned.add(matchedB);
                if (method == Method.WEIGHT_MATCHING) {
                    e = new Endpoints(method.key(), arch, canonA, matchedB, 1, wm.transform().epsScale());
                } else {
                    e = learn(method, spec, arch, canonA, matchedB, wm.transform().epsScale(), train, s, owned, log);
                }
            }
            for (AutoCloseable c : owned) {
                e.own(c);
            }
            selfCheck(e, a, b, train, arch, s.selfCheckTolerance());
            return e;
        } catch (RuntimeException ex) {
            for (int i = owned.size() - 1; i >= 0; i--) {
                try {
                    owned.get(i).close();
                } catch (Exception ignored) {
                    // already failing; the original error matters
                }
            }
            throw ex;
        }
    }

    private static Endpoints learn(Method method, TransformSpec spec, Architecture arch, Weights canonA, Weights matchedB,
                                   double matchedEpsScale, TokenDataset train, Settings s, List<AutoCloseable> owned,
                                   Consumer<String> log) {
        if (matchedEpsScale != 1) {
            throw new IllegalStateException("weight matching never scales the residual stream");
        }
        LearnedMatching.Mode mode = method == Method.DUAL ? LearnedMatching.Mode.DUAL : LearnedMatching.Mode.ONE_SIDED;
        LearnedMatching.Options o = s.learned();
        o = new LearnedMatching.Options(mode, o.steps(), o.lr(), o.warmup(), o.schedule(), o.alphaLaw(), o.alphasPerStep(),
                o.batchSize(), o.anchor(), o.penalty(), o.seed(), o.logEvery());
        try (NDManager init = canonA.manager().newSubManager()) {
            Transform identity = Transform.identity(spec, s.learnedGroups(), init);
            InterpolationPath path = new InterpolationPath(spec, arch, canonA, matchedB, identity, identity,
                    LearnedMatching.learnedSlotsA(identity, o), LearnedMatching.learnedSlotsB(identity));
            owned.add(path);
            LearnedMatching.train(path, train, o, log);
            Weights ta = path.transformedA();
            Weights tb = path.transformedB();
            owned.add(ta);
            owned.add(tb);
            return new Endpoints(method.key(), arch, ta, tb, path.epsScaleA(), path.epsScaleB());
        }
    }

    /** Both endpoints must compute what the original models compute. */
    private static void selfCheck(Endpoints e, Weights a, Weights b, TokenDataset data, Architecture arch, double tol) {
        try (NDManager m = e.a().manager().newSubManager()) {
            NDArray ids = probe(data, arch, m);
            ExactnessCheck.verifyPreserved(arch, a, e.architectureAt(0), e.a(), ids, tol);
            ExactnessCheck.verifyPreserved(arch, b, e.architectureAt(1), e.b(), ids, tol);
        }
    }

    private static NDArray probe(TokenDataset data, Architecture arch, NDManager m) {
        if (data != null && !data.isEmpty()) {
            return data.batch(m, 0, Math.min(2, data.size()));
        }
        long[] ids = new long[2 * 16];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * 7919L) % arch.config().vocabSize();
        }
        return m.create(ids, new ai.djl.ndarray.types.Shape(2, 16));
    }
}
