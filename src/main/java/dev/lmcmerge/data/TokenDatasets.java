package dev.lmcmerge.data;

import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.FileSystems;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * Opens token datasets of every supported kind (see {@link DataFormat}). Parquet and text are
 * token streams cut into consecutive sequences of {@code seqLen} tokens (a final partial
 * sequence is dropped); 2-D {@code .npy} rows are sequences as stored.
 */
public final class TokenDatasets {
    private TokenDatasets() {}

    /**
     * Reads the whole dataset into memory.
     *
     * @throws LmcException INVALID_INPUT naming the file for missing or malformed data, or when
     *                      no complete sequence results; USAGE for a missing or bad sequence length
     */
    public static TokenDataset load(TokenDataSpec spec, Configuration conf) {
        Path path = FileSystems.resolve(spec.location());
        DataFormat format = format(spec, conf);
        if (spec.seqLen() < 0) {
            throw LmcException.usage("seq-len", "must be positive, got " + spec.seqLen());
        }
        TokenDataset ds = switch (format) {
            case NPY -> NpyTokens.read(path, conf, spec.seqLen());
            case PARQUET -> chunk(path, ParquetTokens.read(path, conf), spec.seqLen());
            case TEXT -> chunk(path, spec.byteLevel()
                    ? TextTokens.bytes(path, conf)
                    : TextTokens.tokenized(path, FileSystems.resolve(spec.tokenizer()), conf), spec.seqLen());
        };
        if (ds.isEmpty()) {
            throw LmcException.invalidInput(path.toString(), "empty dataset: no complete sequence of "
                    + ds.seqLen() + " tokens (" + format.cliName() + " data)");
        }
        return ds;
    }

    /**
     * The format {@code spec} is read as: the forced one, else inferred from the path.
     *
     * @throws LmcException INVALID_INPUT if the location does not exist
     */
    public static DataFormat format(TokenDataSpec spec, Configuration conf) {
        if (spec.format() != null) {
            return spec.format();
        }
        Path path = FileSystems.resolve(spec.location());
        FileStatus st = FileSystems.requireExists(path, conf, "dataset");
        return DataFormat.infer(spec.location(), st.isDirectory());
    }

    /** {@link #load} with a default Hadoop configuration. */
    public static TokenDataset load(TokenDataSpec spec) {
        return load(spec, new Configuration());
    }

    private static TokenDataset chunk(Path path, TokenBuffer stream, int seqLen) {
        if (seqLen <= 0) {
            throw LmcException.usage("seq-len", "needed to cut " + path + " into sequences; give a positive --seq-len");
        }
        if (stream.size() < seqLen) {
            throw LmcException.invalidInput(path.toString(), "empty dataset: " + stream.size()
                    + " tokens are fewer than one sequence of " + seqLen);
        }
        return TokenDataset.chunked(path.toString(), stream.array(), stream.size(), seqLen);
    }
}
