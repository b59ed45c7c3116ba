package dev.lmcmerge.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TokenDatasetTest {

    private static TokenDataset stream(int tokens, int seqLen) {
        int[] s = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            s[i] = i;
        }
        return TokenDataset.chunked("mem", s, tokens, seqLen);
    }

    @Test
    void chunkingCutsConsecutiveSequencesAndDropsThePartialTail() {
        TokenDataset ds = stream(23, 5);
        assertEquals(4, ds.size());
        assertArrayEquals(new long[] {0, 1, 2, 3, 4}, ds.row(0));
        assertArrayEquals(new long[] {15, 16, 17, 18, 19}, ds.row(3));
        assertEquals(20, ds.numTokens());
    }

    @Test
    void batchesAreInt64TensorsWithAShorterLastBatch() {
        TokenDataset ds = stream(50, 5);
        assertEquals(4, ds.numBatches(3));
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray b0 = ds.batch(m, 0, 3);
            assertEquals(new Shape(3, 5), b0.getShape());
            assertEquals(DataType.INT64, b0.getDataType());
            assertArrayEquals(new long[] {5, 6, 7, 8, 9}, b0.get(1).toLongArray());
            NDArray last = ds.batch(m, 3, 3);
            assertEquals(new Shape(1, 5), last.getShape());
            assertArrayEquals(ds.row(9), last.get(0).toLongArray());
        }
    }

    @Test
    void evalSplitIsTheLastCeilFractionOfSequences() {
        assertEquals(1, Split.evalCount(10, 0.1));
        assertEquals(2, Split.evalCount(11, 0.1));
        assertEquals(1, Split.evalCount(3, 0.1));
        assertEquals(0, Split.evalCount(10, 0.0));
        TokenDataset ds = stream(200, 4); // 50 sequences
        TokenDataset eval = ds.split(Split.EVAL, 0.1);
        assertEquals(5, eval.size());
        assertArrayEquals(ds.row(45), eval.row(0));
        assertArrayEquals(ds.row(49), eval.row(4));
    }

    @Test
    void trainAndEvalSplitsAreDisjointCoverEverythingAndRepeat() {
        TokenDataset ds = stream(333, 7);
        TokenDataset train = ds.split(Split.TRAIN, 0.25);
        TokenDataset eval = ds.split(Split.EVAL, 0.25);
        assertEquals(ds.size(), train.size() + eval.size());
        Set<Long> seen = new HashSet<>();
        for (TokenDataset part : new TokenDataset[] {train, eval}) {
            for (int i = 0; i < part.size(); i++) {
                for (long t : part.row(i)) {
                    assertTrue(seen.add(t), "token position " + t + " in both splits");
                }
            }
        }
        assertEquals(ds.numTokens(), seen.size());
        TokenDataset again = stream(333, 7).split(Split.EVAL, 0.25);
        for (int i = 0; i < eval.size(); i++) {
            assertArrayEquals(eval.row(i), again.row(i));
        }
        assertEquals(ds.size(), ds.split(Split.ALL, 0.25).size());
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreInvalidInputNamingTheSource() {
        TokenDataset ds = TokenDataset.ofRows("data/ids.npy", new int[] {1, 2, 3, 300}, 2);
        ds.requireVocab(301);
        LmcException e = assertThrows(LmcException.class, () -> ds.requireVocab(256));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("data/ids.npy") && e.getMessage().contains("300"), e.getMessage());
    }

    @Test
    void badSplitNamesAndFractionsAreUsageErrors() {
        assertEquals(Split.EVAL, Split.parse("Eval", "--split"));
        assertEquals(ExitCode.USAGE, assertThrows(LmcException.class, () -> Split.parse("test", "--split")).exitCode());
        assertEquals(ExitCode.USAGE, assertThrows(LmcException.class, () -> Split.evalCount(10, 1.5)).exitCode());
    }

    @Test
    void formatIsInferredFromThePath() {
        assertEquals(DataFormat.PARQUET, DataFormat.infer("s3a://b/tokens.parquet", false));
        assertEquals(DataFormat.PARQUET, DataFormat.infer("hdfs:///data/tokens/", true));
        assertEquals(DataFormat.NPY, DataFormat.infer("ids.NPY", false));
        assertEquals(DataFormat.TEXT, DataFormat.infer("book.txt.gz", false));
    }
}
