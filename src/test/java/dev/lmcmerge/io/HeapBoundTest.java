package dev.lmcmerge.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading a 2 GiB checkpoint needs no more heap than a small model: a child JVM limited to
 * 128 MB of heap reads every tensor of a sparse 2 GiB file.
 */
class HeapBoundTest {
    @TempDir
    Path tmp;

    private static final int TENSORS = 4;
    private static final long[] SHAPE = {16384, 8192}; // 512 MiB of F32 each

    @Test
    void aChildJvmWith128MbHeapReadsEveryTensorOfA2GbFile() throws Exception {
        File file = tmp.resolve("big.safetensors").toFile();
        long dataStart = writeSparseCheckpoint(file);
        assertTrue(file.length() >= (2L << 30), "file is " + file.length() + " bytes");

        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                HeapBoundReader.class.getName(), file.getAbsolutePath())
                .redirectErrorStream(true).start();
        String out;
        boolean done = p.waitFor(180, TimeUnit.SECONDS);
        out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done, "child JVM timed out: " + out);
        assertEquals(0, p.exitValue(), out);
        // Markers: tensor i holds (i+1) in its first element and 10*(i+1) in its last, zeros elsewhere.
        double expectedSum = 0;
        for (int i = 0; i < TENSORS; i++) {
            expectedSum += 11.0 * (i + 1);
        }
        assertTrue(out.contains("tensors=" + TENSORS + " bytes=" + (file.length() - dataStart) + " sum=" + expectedSum),
                out);
        assertTrue(file.delete());
    }

    /** Header plus a data section that is a hole on disk, except one marker at each tensor's ends. */
    private static long writeSparseCheckpoint(File file) throws IOException {
        List<TensorInfo> layout = new ArrayList<>();
        long offset = 0;
        for (int i = 0; i < TENSORS; i++) {
            TensorInfo t = TensorInfo.of("layer." + i + ".weight", DType.F32, SHAPE).at(offset);
            layout.add(t);
            offset = t.end();
        }
        byte[] header = SafetensorsHeader.encode(layout, SafetensorsWriter.PT_METADATA);
        long dataStart = 8 + header.length;
        try (RandomAccessFile raf = new RandomAccessFile(file, "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length).array());
            raf.write(header);
            raf.setLength(dataStart + offset);
            for (int i = 0; i < TENSORS; i++) {
                TensorInfo t = layout.get(i);
                raf.seek(dataStart + t.begin());
                raf.write(le(i + 1f));
                raf.seek(dataStart + t.end() - 4);
                raf.write(le(10f * (i + 1)));
            }
        }
        return dataStart;
    }

    private static byte[] le(float v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, v).array();
    }
}
