package dev.lmcmerge.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lmcmerge.data.DataFormat;
import java.nio.file.Path;
import org.junit.jupiter.api.Timeout;

/**
 * Any bytes as a {@code .npy} token file (the last input byte picks the sequence length, 0 =
 * as stored): see {@link DatasetChecks}.
 */
class NpyTokensFuzzTest {
    private static final Path DIR = FuzzFiles.scratch("npy");

    @Timeout(10)
    @DictionaryEntries({"'descr'", "'<i8'", "'<i4'", "'|u1'", "'<f4'", "'fortran_order'", "True", "False",
            "'shape'", "(", ",)", "\u0093NUMPY"})
    @FuzzTest(maxDuration = "30s")
    void npyTokens(FuzzedDataProvider in) {
        int seqLen = in.consumeInt(0, 16);
        Path file = DIR.resolve("tokens.npy");
        FuzzFiles.write(file, in.consumeRemainingAsBytes());
        DatasetChecks.loadsOrRefuses(file, DataFormat.NPY, seqLen);
    }
}
