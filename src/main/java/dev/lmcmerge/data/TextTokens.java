package dev.lmcmerge.data;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.FileSystems;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * The token stream of a UTF-8 text file ({@code .gz} is decompressed transparently): either its
 * bytes (the byte-level vocabulary) or the ids a Hugging Face {@code tokenizer.json} gives it,
 * loaded offline through DJL's binding of the {@code tokenizers} library. No special tokens
 * (BOS/EOS) are added: the text is one continuous stream, later cut into sequences.
 */
final class TextTokens {
    /** Value of {@code --tokenizer} that forces the byte-level vocabulary. */
    static final String BYTES = "bytes";

    /**
     * Characters per tokenizer call. The text is cut only after a newline, where every common
     * pre-tokenizer splits anyway, so the ids equal those of one call on the whole text while
     * keeping each native call small.
     */
    private static final int BLOCK_CHARS = 1 << 16;

    private TextTokens() {}

    /** The bytes of a text file, gunzipped if its name ends in {@code .gz}. */
    static byte[] readBytes(Path file, Configuration conf) {
        FileStatus st = FileSystems.requireExists(file, conf, "text file");
        if (st.isDirectory()) {
            throw LmcException.invalidInput(file.toString(), "is a folder; expected a text file (or give --format parquet)");
        }
        boolean gz = file.getName().endsWith(".gz");
        try (InputStream raw = FileSystems.fs(file, conf).open(file);
             InputStream in = gz ? new GZIPInputStream(raw, 1 << 16) : raw) {
            long guess = gz ? st.getLen() * 4 : st.getLen();
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(guess, 1L << 30));
            in.transferTo(out);
            return out.toByteArray();
        } catch (java.util.zip.ZipException e) {
            throw LmcException.invalidInput(file.toString(), "not a valid gzip file (" + e.getMessage() + ")");
        } catch (java.io.EOFException e) {
            // GZIPInputStream reports a stream cut short (truncated download) as EOF, not ZipException.
            if (gz) {
                throw LmcException.invalidInput(file.toString(), "truncated gzip file: the compressed stream ends early");
            }
            throw FileSystems.ioError(file.toString(), "cannot read text file", e);
        } catch (IOException e) {
            throw FileSystems.ioError(file.toString(), "cannot read text file", e);
        }
    }

    /** Byte-level token stream of a text file. */
    static TokenBuffer bytes(Path file, Configuration conf) {
        byte[] b = readBytes(file, conf);
        TokenBuffer out = new TokenBuffer();
        out.addAll(ByteVocabulary.encode(b, b.length), 0, b.length);
        return out;
    }

    /**
     * Token stream of a text file under a Hugging Face tokenizer.
     *
     * @param tokenizer a {@code tokenizer.json} file, or a folder holding one
     */
    static TokenBuffer tokenized(Path file, Path tokenizer, Configuration conf) {
        String text = decodeUtf8(readBytes(file, conf), file);
        TokenBuffer out = new TokenBuffer();
        try (HuggingFaceTokenizer tok = load(tokenizer, conf)) {
            int start = 0;
            while (start < text.length()) {
                int end = Math.min(text.length(), start + BLOCK_CHARS);
                if (end < text.length()) {
                    int nl = text.lastIndexOf('\n', end - 1);
                    end = nl >= start ? nl + 1 : end;
                }
                Encoding enc = tok.encode(text.substring(start, end), false, false);
                for (long id : enc.getIds()) {
                    out.add((int) id);
                }
                start = end;
            }
        }
        return out;
    }

    /** Loads a tokenizer from any Hadoop file system without truncation, padding or special tokens. */
    static HuggingFaceTokenizer load(Path tokenizer, Configuration conf) {
        Path file = tokenizer;
        if (FileSystems.requireExists(tokenizer, conf, "tokenizer").isDirectory()) {
            file = new Path(tokenizer, "tokenizer.json");
            FileSystems.requireExists(file, conf, "tokenizer.json in the tokenizer folder");
        }
        Map<String, String> options = Map.of(
                "addSpecialTokens", "false",
                "truncation", "false",
                "padding", "false");
        try (InputStream in = FileSystems.fs(file, conf).open(file)) {
            return HuggingFaceTokenizer.newInstance(in, options);
        } catch (IOException e) {
            throw FileSystems.ioError(file.toString(), "cannot read tokenizer", e);
        } catch (RuntimeException e) {
            throw new LmcException(ExitCode.INVALID_INPUT, file + ": not a valid Hugging Face tokenizer.json ("
                    + e.getMessage() + ")", e);
        }
    }

    private static String decodeUtf8(byte[] bytes, Path file) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw LmcException.invalidInput(file.toString(), "is not UTF-8 text (" + e.getMessage() + ")");
        }
    }
}
