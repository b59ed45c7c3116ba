package dev.lmcmerge.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lmcmerge.data.DataFormat;
import java.nio.file.Path;
import org.junit.jupiter.api.Timeout;

/**
 * Any bytes as a text dataset read with the byte-level vocabulary, plain or as {@code .gz} (the
 * last input byte picks the sequence length, the one before it the compression): see
 * {@link DatasetChecks}.
 */
class TextTokensFuzzTest {
    private static final Path DIR = FuzzFiles.scratch("text");

    @Timeout(10)
    @FuzzTest(maxDuration = "30s")
    void textTokens(FuzzedDataProvider in) {
        int seqLen = in.consumeInt(1, 64);
        boolean gz = in.consumeBoolean();
        Path file = DIR.resolve(gz ? "corpus.txt.gz" : "corpus.txt");
        FuzzFiles.write(file, in.consumeRemainingAsBytes());
        DatasetChecks.loadsOrRefuses(file, DataFormat.TEXT, seqLen);
    }
}
