package dev.lmcmerge.dist;

import dev.lmcmerge.config.AlignConfig;
import dev.lmcmerge.config.DataConfig;
import dev.lmcmerge.config.JobConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The configuration a saved training state depends on: resuming with any of these keys changed
 * would silently mix two different runs, so {@link StepCheckpoints#latest} refuses it. Values are
 * the typed, validated ones, so {@code steps = 50} in a job file and {@code align.steps=50} on the
 * command line agree.
 */
final class Fingerprint {
    private Fingerprint() {}

    /** key -> typed value as text. */
    static Map<String, String> of(JobConfig job) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("lmc.model-a", String.valueOf(job.modelA().orElse(null)));
        out.put("lmc.model-b", String.valueOf(job.modelB().orElse(null)));
        DataConfig d = job.data();
        out.put("lmc.data.train", String.valueOf(d.train().orElse(null)));
        out.put("lmc.data.eval", String.valueOf(d.eval().orElse(null)));
        out.put("lmc.data.format", d.format().toString());
        out.put("lmc.data.seq-len", Integer.toString(d.seqLen()));
        out.put("lmc.data.batch-size", Integer.toString(d.batchSize()));
        out.put("lmc.data.tokenizer", String.valueOf(d.tokenizer().orElse(null)));
        out.put("lmc.data.eval-fraction", Double.toString(d.evalFraction()));
        AlignConfig a = job.align();
        out.put("lmc.align.steps", Integer.toString(a.steps()));
        out.put("lmc.align.lr", Double.toString(a.lr()));
        out.put("lmc.align.schedule", a.schedule().toString());
        out.put("lmc.align.warmup", Integer.toString(a.warmup()));
        out.put("lmc.align.alpha-sampling", a.alphaSampling().toString());
        out.put("lmc.align.orthogonal", a.orthogonal().toString());
        out.put("lmc.align.symmetries", a.symmetries().toString());
        out.put("lmc.align.learned-symmetries", a.learnedSymmetries().toString());
        out.put("lmc.align.init", a.init().toString());
        out.put("lmc.align.dual-anchor", a.dualAnchor().toString());
        out.put("lmc.align.seed", Long.toString(a.seed()));
        out.put("lmc.align.weight-matching-iterations", Integer.toString(a.weightMatchingIterations()));
        return out;
    }
}
