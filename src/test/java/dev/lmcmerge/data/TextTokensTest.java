package dev.lmcmerge.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextTokensTest {
    @TempDir
    Path dir;

    /** A word-level tokenizer with a whitespace pre-tokenizer: the smallest valid tokenizer.json. */
    static final String WORD_LEVEL = """
            {"version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
             "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null,
             "decoder": null,
             "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "the": 1, "cat": 2, "sat": 3},
                       "unk_token": "[UNK]"}}
            """;

    @Test
    void withoutATokenizerEveryUtf8ByteIsOneToken() throws Exception {
        Path f = dir.resolve("t.txt");
        Files.writeString(f, "ab\u00e9cd!", StandardCharsets.UTF_8); // é is two bytes
        TokenDataset ds = TokenDatasets.load(new TokenDataSpec(f.toString(), null, null, 3));
        assertEquals(2, ds.size());
        assertArrayEquals(new long[] {'a', 'b', 0xc3}, ds.row(0));
        assertArrayEquals(new long[] {0xa9, 'c', 'd'}, ds.row(1));
    }

    @Test
    void gzippedTextIsReadTransparently() throws Exception {
        Path f = dir.resolve("t.txt.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(f))) {
            out.write("hello world".getBytes(StandardCharsets.UTF_8));
        }
        TokenDataset ds = TokenDatasets.load(new TokenDataSpec(f.toString(), null, "bytes", 5));
        assertArrayEquals(new long[] {'h', 'e', 'l', 'l', 'o'}, ds.row(0));
        assertArrayEquals(new long[] {' ', 'w', 'o', 'r', 'l'}, ds.row(1));
    }

    @Test
    void aTokenizerJsonGivesItsIdsWithoutSpecialTokensAcrossBlockBoundaries() throws Exception {
        Path tok = dir.resolve("tokenizer.json");
        Files.writeString(tok, WORD_LEVEL);
        Path f = dir.resolve("c.txt");
        // ~120K characters: more than one tokenizer block, so the block cut must not lose or split words.
        Files.writeString(f, "the cat sat\n".repeat(10_000) + "dog");
        TokenDataset ds = TokenDatasets.load(new TokenDataSpec(f.toString(), DataFormat.TEXT, dir.toString(), 3));
        assertEquals(10_000, ds.size()); // the trailing unknown word is a partial sequence, dropped
        for (int i = 0; i < ds.size(); i += 997) {
            assertArrayEquals(new long[] {1, 2, 3}, ds.row(i));
        }
        TokenDataset withUnk = TokenDatasets.load(new TokenDataSpec(f.toString(), null, tok.toString(), 1));
        assertEquals(30_001, withUnk.size());
        assertArrayEquals(new long[] {0}, withUnk.row(30_000));
    }

    @Test
    void anInvalidTokenizerFileIsInvalidInputNamingIt() throws Exception {
        Path tok = dir.resolve("bad-tokenizer.json");
        Files.writeString(tok, "{\"model\": 42}");
        Path f = dir.resolve("c.txt");
        Files.writeString(f, "the cat");
        LmcException e = assertThrows(LmcException.class,
                () -> TokenDatasets.load(new TokenDataSpec(f.toString(), null, tok.toString(), 1)));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("bad-tokenizer.json"), e.getMessage());
    }

    @Test
    void aMissingFileIsInvalidInputNamingIt() {
        LmcException e = assertThrows(LmcException.class,
                () -> TokenDatasets.load(new TokenDataSpec(dir.resolve("nope.txt").toString(), null, null, 4)));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("nope.txt"), e.getMessage());
    }
}
