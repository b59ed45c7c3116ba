package dev.lmcmerge.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lmcmerge.io.SafetensorsReader;
import dev.lmcmerge.io.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Timeout;

/**
 * Any bytes as a {@code model.safetensors} file: {@link SafetensorsReader} accepts them or
 * refuses them with INVALID_INPUT naming the file; whatever it accepts it can read completely,
 * with every tensor inside the file and the same bytes through {@code read} and {@code openStream}.
 */
class SafetensorsFuzzTest {
    private static final Path DIR = FuzzFiles.scratch("safetensors");

    @Timeout(10)
    @DictionaryEntries({"\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"F16\"",
            "\"BF16\"", "\"F64\"", "\"I64\"", "\"I32\"", "\"U8\"", "\"BOOL\"", "\"F8_E4M3\"", "[0,0]", "[]",
            "9223372036854775807", "-1", "4294967296"})
    @FuzzTest(maxDuration = "30s")
    void safetensorsFile(byte[] data) {
        Path file = DIR.resolve("model.safetensors");
        FuzzFiles.write(file, data);
        FuzzFiles.rejectsOnlyAsDocumented(() -> readAll(file, data.length), file.toString());
    }

    private static void readAll(Path file, long fileLength) {
        try (SafetensorsReader r = SafetensorsReader.open(new org.apache.hadoop.fs.Path(file.toUri()), FuzzFiles.CONF)) {
            for (TensorInfo t : r.tensors().values()) {
                assertTrue(t.begin() >= 0 && t.end() >= t.begin() && t.end() <= fileLength, t.toString());
                ByteBuffer b = r.read(t.name());
                assertEquals(t.byteLength(), b.remaining(), t.toString());
                byte[] direct = new byte[b.remaining()];
                b.get(direct);
                try (InputStream in = r.openStream(t.name())) {
                    assertArrayEquals(direct, in.readAllBytes(), t.toString());
                }
                if (t.dtype().isFloating()) {
                    assertEquals(t.numel(), r.readFloat32(t.name()).length, t.toString());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
