package dev.lmcmerge.dist;

import dev.lmcmerge.config.AlignConfig.Method;
import dev.lmcmerge.config.JobConfig;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.symmetry.StandardParameterizations;
import dev.lmcmerge.symmetry.TransformSpec;

/**
 * The driver's plan of one merge run, made from configuration, {@code config.json} files and
 * safetensors headers only: the two models, their layer blocks, how the data is cut, and what
 * will run. {@link #log} prints it.
 *
 * @param job     the validated configuration
 * @param modelA  header of model A
 * @param modelB  header of model B
 * @param blocks  layer blocks (weight matching and gradient streaming work block by block)
 * @param data    data cut into training steps and held-out partitions
 * @param alphas  the alpha grid of the barrier curves
 */
public record MergePlan(JobConfig job, ModelHeader modelA, ModelHeader modelB, List<LayerBlock> blocks,
                        DataPlan data, double[] alphas) {

    /** The symmetry table of the models (the same for both), with the configured rotation form. */
    public TransformSpec spec() {
        StandardParameterizations p = new StandardParameterizations(
                StandardParameterizations.RotationForm.valueOf(job.align().orthogonal().name()));
        return TransformSpec.forArchitecture(Architectures.of(modelA.config()), p);
    }

    /** Every tensor of the architecture (a tied unembedding included) with its shape, in model order. */
    public Map<String, long[]> shapes() {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (TensorSpec t : Architectures.of(modelA.config()).tensors()) {
            out.put(t.name(), t.shape());
        }
        return out;
    }

    /** Methods in configured order. */
    public List<Method> methods() {
        return job.align().methods();
    }

    /** True if any configured method learns its transforms (one-sided, dual). */
    public boolean learns() {
        return methods().contains(Method.ONE_SIDED) || methods().contains(Method.DUAL);
    }

    /** The plan as log lines. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add("model A: " + modelA.location() + " - " + modelA.describe());
        out.add("model B: " + modelB.location() + " - " + modelB.describe());
        out.add("alignable: same family (" + modelA.config().family().id() + "), architecture and "
                + modelA.tensors() + " tensor shapes");
        out.add("layer blocks: " + blocks.size() + " (" + blocks.get(0) + (blocks.size() > 1 ? " ... "
                + blocks.get(blocks.size() - 1) : "") + ")");
        out.add(String.format(Locale.ROOT, "train data: %d sequences x %d tokens from %s; each step one batch of %d"
                        + " in %d partition%s", data.train().size(), data.train().seqLen(), data.trainSource(),
                data.batchSize(), data.stepPartitions(), data.stepPartitions() == 1 ? "" : "s"));
        out.add(String.format(Locale.ROOT, "eval data: %d of %d held-out sequences (%d batch%s of %d) from %s in %d"
                        + " partition%s per (method, alpha)", data.evalSequences(), data.eval().size(),
                data.evalBatches(), data.evalBatches() == 1 ? "" : "es", data.batchSize(), data.evalSource(),
                data.evalPartitions(), data.evalPartitions() == 1 ? "" : "s"));
        List<String> m = new ArrayList<>();
        for (Method x : methods()) {
            m.add(MethodNames.of(x));
        }
        String learned = learns() ? "; " + job.align().steps() + " learned steps, lr " + job.align().lr()
                + ", alpha " + job.align().alphaSampling().name().toLowerCase(Locale.ROOT) : "";
        out.add("methods: " + String.join(", ", m) + learned + "; " + alphas.length + " alphas; merged at "
                + job.output().mergedAlphas());
        if (learns()) {
            long n = learnedParameterCount();
            out.add(String.format(Locale.ROOT, "learned symmetries: %s; %,d parameters per side (%.1f MB in float32;"
                            + " the driver holds parameters, gradients and Adam moments of both sides, %.1f MB)",
                    String.join(", ", job.align().learnedSymmetries().stream().map(x -> x.name().toLowerCase(Locale.ROOT))
                            .toList()), n, n * 4 / 1e6, n * 4 * 4 * 2 / 1e6));
        }
        return out;
    }

    /** The learned groups of the run as slot groups. */
    public java.util.Set<dev.lmcmerge.symmetry.SlotGroup> learnedGroups() {
        java.util.Set<dev.lmcmerge.symmetry.SlotGroup> g = java.util.EnumSet.noneOf(dev.lmcmerge.symmetry.SlotGroup.class);
        for (dev.lmcmerge.config.AlignConfig.Symmetry x : job.align().learnedSymmetries()) {
            g.add(dev.lmcmerge.symmetry.SlotGroup.valueOf(x.name()));
        }
        return g;
    }

    /** Parameters of one side's learned transform: the sum of its slots' parameter sizes. */
    public long learnedParameterCount() {
        long n = 0;
        for (dev.lmcmerge.symmetry.Slot slot : spec().slotsOf(learnedGroups())) {
            n += slot.paramShape().size();
        }
        return n;
    }

    /** Prints {@link #lines()} with a {@code plan:} prefix. */
    public void log(PrintWriter out) {
        for (String l : lines()) {
            out.println("plan: " + l);
        }
        out.flush();
    }
}
