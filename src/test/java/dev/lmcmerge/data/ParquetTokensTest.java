package dev.lmcmerge.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParquetTokensTest {
    @TempDir
    Path dir;

    private static TokenDataset load(Path p, int seqLen) {
        return TokenDatasets.load(new TokenDataSpec(p.toString(), null, null, seqLen));
    }

    @Test
    void rowsOfInt64ListsAreConcatenatedAndChunked() throws Exception {
        Path f = dir.resolve("tokens.parquet");
        TestParquet.writeTokens(f, List.of(new long[] {1, 2, 3}, new long[] {}, new long[] {4, 5, 6, 7, 8}), true);
        TokenDataset ds = load(f, 3);
        assertEquals(2, ds.size());
        assertArrayEquals(new long[] {1, 2, 3}, ds.row(0));
        assertArrayEquals(new long[] {4, 5, 6}, ds.row(1));
    }

    @Test
    void aFolderOfInt32PartFilesIsReadInPathOrderSkippingHiddenFiles() throws Exception {
        Path folder = dir.resolve("ds");
        Files.createDirectories(folder);
        TestParquet.writeTokens(folder.resolve("part-00001.parquet"), List.of(new long[] {5, 6, 7, 8}), false);
        TestParquet.writeTokens(folder.resolve("part-00000.parquet"), List.of(new long[] {1, 2}, new long[] {3, 4}), false);
        Files.writeString(folder.resolve("_SUCCESS"), "");
        Files.writeString(folder.resolve(".part-00000.parquet.crc"), "junk");
        TokenDataset ds = load(folder, 4);
        assertEquals(2, ds.size());
        assertArrayEquals(new long[] {1, 2, 3, 4}, ds.row(0));
        assertArrayEquals(new long[] {5, 6, 7, 8}, ds.row(1));
    }

    @Test
    void aMissingInputIdsColumnIsInvalidInputNamingFileAndColumn() throws Exception {
        Path f = dir.resolve("wrong.parquet");
        TestParquet.writeWrongColumn(f);
        LmcException e = assertThrows(LmcException.class, () -> load(f, 2));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("wrong.parquet") && e.getMessage().contains("input_ids"), e.getMessage());
    }

    @Test
    void fewerTokensThanOneSequenceIsAnEmptyDataset() throws Exception {
        Path f = dir.resolve("short.parquet");
        TestParquet.writeTokens(f, List.of(new long[] {1, 2, 3}), true);
        LmcException e = assertThrows(LmcException.class, () -> load(f, 8));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("short.parquet") && e.getMessage().contains("empty dataset"), e.getMessage());
    }

    @Test
    void aFileThatIsNotParquetIsInvalidInput() throws Exception {
        Path f = dir.resolve("fake.parquet");
        Files.writeString(f, "not parquet at all");
        LmcException e = assertThrows(LmcException.class, () -> load(f, 2));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("fake.parquet"), e.getMessage());
    }
}
