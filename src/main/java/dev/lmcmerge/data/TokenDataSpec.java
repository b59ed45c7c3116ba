package dev.lmcmerge.data;

/**
 * Where token data lives and how to read it.
 *
 * @param location  a file or folder on any Hadoop file system (local paths need no scheme)
 * @param format    the file kind, or null to infer it from the path ({@link DataFormat#infer})
 * @param tokenizer for text: a {@code tokenizer.json} (or a folder holding one); null or
 *                  {@code "bytes"} for the byte-level vocabulary. Ignored for other formats.
 * @param seqLen    tokens per sequence; 0 means "as stored", allowed only for 2-D {@code .npy}
 */
public record TokenDataSpec(String location, DataFormat format, String tokenizer, int seqLen) {

    /** The same data with another sequence length. */
    public TokenDataSpec withSeqLen(int newSeqLen) {
        return new TokenDataSpec(location, format, tokenizer, newSeqLen);
    }

    /** True if text is read with the byte-level vocabulary rather than a tokenizer file. */
    public boolean byteLevel() {
        return tokenizer == null || tokenizer.isBlank() || TextTokens.BYTES.equals(tokenizer);
    }
}
