package dev.lmcmerge.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.data.DataFormat;
import dev.lmcmerge.data.Split;
import dev.lmcmerge.data.TokenDataSpec;
import dev.lmcmerge.data.TokenDataset;
import dev.lmcmerge.data.TokenDatasets;
import java.nio.file.Path;

/**
 * The contract of the token dataset readers under fuzzing: a file is refused with INVALID_INPUT
 * naming it (or USAGE naming {@code seq-len} when the requested length does not fit the data), or
 * it loads into a non-empty dataset whose every batch and split can be read, with ids in
 * [0, 2^31).
 */
final class DatasetChecks {
    private DatasetChecks() {}

    static void loadsOrRefuses(Path file, DataFormat format, int seqLen) {
        try {
            FuzzFiles.rejectsOnlyAsDocumented(() -> readAll(file, format, seqLen), file.toString());
        } catch (AssertionError e) {
            // USAGE is documented only for the sequence length, and then names the key, not the file.
            if (!(e.getCause() instanceof dev.lmcmerge.config.LmcException l && l.exitCode() == ExitCode.USAGE
                    && l.getMessage().startsWith("seq-len: "))) {
                throw e;
            }
        }
    }

    private static void readAll(Path file, DataFormat format, int seqLen) {
        TokenDataset ds = TokenDatasets.load(new TokenDataSpec(file.toString(), format, "bytes", seqLen), FuzzFiles.CONF);
        assertTrue(ds.size() > 0 && ds.seqLen() > 0, ds.toString());
        int batches = ds.numBatches(3);
        long seen = 0;
        for (int b = 0; b < batches; b++) {
            long[] ids = ds.batchIds(b, 3);
            for (long id : ids) {
                assertTrue(id >= 0 && id <= Integer.MAX_VALUE, "token id " + id);
            }
            seen += ids.length;
        }
        assertEquals(ds.numTokens(), seen);
        TokenDataset train = ds.split(Split.TRAIN, 0.25);
        TokenDataset eval = ds.split(Split.EVAL, 0.25);
        assertEquals(ds.size(), train.size() + eval.size());
        ds.requireVocab(ds.maxTokenId() + 1);
    }
}
