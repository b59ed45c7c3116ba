package dev.lmcmerge.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.io.Npy;
import dev.lmcmerge.io.NpyArray;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTokensTest {
    @TempDir
    Path dir;

    private Path write(String name, NpyArray a) {
        Path p = dir.resolve(name);
        Npy.write(FileSystems.resolve(p.toString()), new Configuration(), a);
        return p;
    }

    private static TokenDataset load(Path p, int seqLen) {
        return TokenDatasets.load(new TokenDataSpec(p.toString(), null, null, seqLen));
    }

    @Test
    void int64RowsAreSequencesAsStored() {
        Path p = write("ids.npy", NpyArray.ofLongs(new long[] {3, 4}, new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
        TokenDataset ds = load(p, 0);
        assertEquals(3, ds.size());
        assertEquals(4, ds.seqLen());
        assertArrayEquals(new long[] {8, 9, 10, 11}, ds.row(2));
    }

    @Test
    void int32RowsCutToAShorterSeqLenKeepTheirFirstTokens() {
        Path p = write("ids32.npy", NpyArray.ofInts(new long[] {2, 4}, new int[] {1, 2, 3, 4, 5, 6, 7, 8}));
        TokenDataset ds = load(p, 2);
        assertEquals(2, ds.size());
        assertArrayEquals(new long[] {5, 6}, ds.row(1));
    }

    @Test
    void aLongerSeqLenThanTheRowsIsAUsageError() {
        Path p = write("ids.npy", NpyArray.ofInts(new long[] {2, 4}, new int[8]));
        assertEquals(ExitCode.USAGE, assertThrows(LmcException.class, () -> load(p, 5)).exitCode());
    }

    @Test
    void floatArraysAreInvalidInput() {
        Path p = write("x.npy", NpyArray.ofFloats(new long[] {2, 2}, new float[4]));
        LmcException e = assertThrows(LmcException.class, () -> load(p, 0));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("x.npy"), e.getMessage());
    }

    @Test
    void negativeTokenIdsAreInvalidInput() {
        Path p = write("neg.npy", NpyArray.ofLongs(new long[] {1, 2}, new long[] {3, -100}));
        LmcException e = assertThrows(LmcException.class, () -> load(p, 0));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("-100"), e.getMessage());
    }
}
