package dev.lmcmerge.data;

import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.Npy;
import dev.lmcmerge.io.NpyArray;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Token sequences from a NumPy integer array. A 2-D array [N, T] holds one sequence per row:
 * rows are used as they are (T is the sequence length), or cut to their first {@code seqLen}
 * tokens when a shorter length is asked for. A 1-D array is a token stream, chunked like text.
 */
final class NpyTokens {
    private NpyTokens() {}

    /** @param seqLen requested sequence length, or 0 for the array's own row length */
    static TokenDataset read(Path file, Configuration conf, int seqLen) {
        String where = file.toString();
        NpyArray a = Npy.read(file, conf);
        if (a.dtype().isFloating() || a.dtype() == DType.BOOL) {
            throw LmcException.invalidInput(where, "npy dtype " + a.dtype() + " cannot hold token ids; expected int32 or int64");
        }
        long[] shape = a.shape();
        long[] ids = a.toLongs();
        int[] tokens = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] > Integer.MAX_VALUE) {
                throw LmcException.invalidInput(where, "token id " + ids[i] + " at flat index " + i
                        + " is not a vocabulary index (expected 0 <= id < 2^31)");
            }
            tokens[i] = (int) ids[i];
        }
        if (shape.length == 1) {
            if (seqLen <= 0) {
                throw LmcException.usage("seq-len", where + " is a 1-D token stream; give --seq-len to cut it into sequences");
            }
            return TokenDataset.chunked(where, tokens, tokens.length, seqLen);
        }
        if (shape.length != 2) {
            throw LmcException.invalidInput(where, "npy shape " + Arrays.toString(shape)
                    + " is not [N, T] token sequences (or a 1-D token stream)");
        }
        int n = (int) shape[0];
        int t = (int) shape[1];
        if (t < 2 && n > 0) {
            // A sequence of one token predicts nothing: caught here, naming the file, not deep in the loss.
            throw LmcException.invalidInput(where, "npy shape " + Arrays.toString(shape) + " holds sequences of "
                    + t + " token" + (t == 1 ? "" : "s") + "; expected at least 2 tokens per row (one predicts the next)");
        }
        if (seqLen <= 0 || seqLen == t) {
            return TokenDataset.ofRows(where, tokens, Math.max(t, 1));
        }
        if (seqLen > t) {
            throw LmcException.usage("seq-len", seqLen + " is longer than the " + t + "-token rows of " + where
                    + "; npy rows are sequences as they are: omit --seq-len or ask for at most " + t);
        }
        int[] cut = new int[n * seqLen];
        for (int r = 0; r < n; r++) {
            System.arraycopy(tokens, r * t, cut, r * seqLen, seqLen);
        }
        return TokenDataset.ofRows(where, cut, seqLen);
    }
}
