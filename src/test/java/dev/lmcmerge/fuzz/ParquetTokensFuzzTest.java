package dev.lmcmerge.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lmcmerge.data.DataFormat;
import java.nio.file.Path;
import org.junit.jupiter.api.Timeout;

/**
 * Any bytes as a Parquet token file (the last input byte picks the sequence length): see
 * {@link DatasetChecks}. Seeds are pyarrow files with list&lt;int64&gt; / list&lt;int32&gt;
 * columns, plain, snappy and gzip (data page v2).
 */
class ParquetTokensFuzzTest {
    private static final Path DIR = FuzzFiles.scratch("parquet");

    @Timeout(10)
    @FuzzTest(maxDuration = "30s")
    void parquetTokens(FuzzedDataProvider in) {
        int seqLen = in.consumeInt(1, 64);
        Path file = DIR.resolve("tokens.parquet");
        FuzzFiles.write(file, in.consumeRemainingAsBytes());
        DatasetChecks.loadsOrRefuses(file, DataFormat.PARQUET, seqLen);
    }
}
