package dev.lmcmerge.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parquet's run-length and dictionary encodings let a few hundred bytes claim millions of rows or
 * ids (a CI fuzz run timed out on such a file): a file claiming more than
 * {@link ParquetFiles#MAX_ENTRIES_PER_BYTE} rows and values per stored byte is refused from its
 * footer, before any page is decoded; real, even padding-heavy, data is far below the limit.
 */
class ParquetExpansionLimitTest {
    @TempDir
    Path dir;

    private static TokenDataset load(Path file) {
        return TokenDatasets.load(new TokenDataSpec(file.toString(), DataFormat.PARQUET, "bytes", 4), new Configuration());
    }

    @Test
    void aFewHundredBytesClaimingTenMillionIdsAreRefusedFromTheFooter() throws Exception {
        Path file = dir.resolve("bomb.parquet");
        TestParquet.writeRunOfOneId(file, 1, 10_000_000);
        assertTrue(Files.size(file) < 400, "the run-length file is " + Files.size(file) + " bytes");

        LmcException e = assertThrows(LmcException.class, () -> load(file));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("bomb.parquet") && e.getMessage().contains("claims 10000001 rows and values"),
                e.getMessage());
    }

    @Test
    void aFileClaimingTenMillionEmptyRowsIsRefusedFromTheFooter() throws Exception {
        Path file = dir.resolve("empty-rows.parquet");
        TestParquet.writeRunOfOneId(file, 10_000_000, 0);

        LmcException e = assertThrows(LmcException.class, () -> load(file));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("claims 20000000 rows and values"), e.getMessage());
    }

    @Test
    void aRunOfIdsWithinTheLimitStillLoads() throws Exception {
        Path file = dir.resolve("small-run.parquet");
        TestParquet.writeRunOfOneId(file, 1, 1000);

        TokenDataset ds = load(file);
        assertEquals(1000, ds.numTokens());
        assertEquals(7, ds.maxTokenId());
    }

    @Test
    void paddingHeavyRowsAreFarBelowTheLimit() throws Exception {
        List<long[]> rows = new ArrayList<>();
        for (int r = 0; r < 200; r++) {
            long[] row = new long[2048];
            for (int i = 0; i < 20; i++) {
                row[i] = 1000 + (r * 31L + i * 17L) % 50_000;
            }
            rows.add(row); // 20 ids, then 2028 padding zeros
        }
        Path file = dir.resolve("padded.parquet");
        TestParquet.writeTokens(file, rows, true);

        long entries = 200L * 2048 * 2; // rows and values bound: one level entry per id, plus the rows
        assertTrue(entries < ParquetFiles.MAX_ENTRIES_PER_BYTE * Files.size(file) / 4,
                entries + " entries in " + Files.size(file) + " bytes come within 4x of the limit");
        assertEquals(200L * 2048, load(file).numTokens());
    }

    @Test
    void aNegativeRowCountIsACorruptFooter() throws Exception {
        Path file = dir.resolve("negative.parquet");
        TestParquet.writeRunOfOneId(file, 3, 1);
        ParquetFiles.Footer real = ParquetFiles.footer(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration());
        var block = real.blocks().get(0);
        block.setRowCount(-3);

        LmcException e = assertThrows(LmcException.class, () -> ParquetFiles.requirePlausibleCounts(real, "input_ids"));
        assertTrue(e.getMessage().contains("corrupt footer: -3 rows"), e.getMessage());
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
    }
}
