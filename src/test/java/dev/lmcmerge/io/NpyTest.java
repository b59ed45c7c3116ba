package dev.lmcmerge.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.LmcException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** .npy files: the four dtypes the project exchanges round-trip; unsupported layouts are refused. */
class NpyTest {
    @TempDir
    Path tmp;

    private final Configuration conf = new Configuration();

    private NpyArray roundTrip(NpyArray a) {
        org.apache.hadoop.fs.Path p = FileSystems.resolve(tmp.resolve("a.npy").toString());
        Npy.write(p, conf, a);
        return Npy.read(p, conf);
    }

    @Test
    void int32AndInt64RoundTrip() {
        NpyArray i32 = roundTrip(NpyArray.ofInts(new long[] {3}, new int[] {1, -2, Integer.MAX_VALUE}));
        assertEquals(DType.I32, i32.dtype());
        assertArrayEquals(new long[] {1, -2, Integer.MAX_VALUE}, i32.toLongs());
        NpyArray i64 = roundTrip(NpyArray.ofLongs(new long[] {2, 2}, new long[] {Long.MIN_VALUE, 0, 5, 7}));
        assertEquals(DType.I64, i64.dtype());
        assertArrayEquals(new long[] {2, 2}, i64.shape());
        assertArrayEquals(new long[] {Long.MIN_VALUE, 0, 5, 7}, i64.toLongs());
    }

    @Test
    void float32AndFloat64RoundTrip() {
        NpyArray f32 = roundTrip(NpyArray.ofFloats(new long[] {1, 3}, new float[] {0.5f, -1e-30f, Float.MAX_VALUE}));
        assertArrayEquals(new float[] {0.5f, -1e-30f, Float.MAX_VALUE}, f32.toFloats());
        NpyArray f64 = roundTrip(NpyArray.ofDoubles(new long[0], new double[] {0.1}));
        assertEquals(DType.F64, f64.dtype());
        assertArrayEquals(new long[0], f64.shape());
        assertArrayEquals(new float[] {0.1f}, f64.toFloats());
    }

    @Test
    void headerIsPaddedTo64BytesLikeNumpy() {
        byte[] h = Npy.encodeHeader(NpyArray.ofLongs(new long[] {4}, new long[4]));
        assertEquals(0, h.length % 64);
        String text = new String(h, 10, h.length - 10, StandardCharsets.ISO_8859_1);
        assertTrue(text.startsWith("{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }"), text);
        assertTrue(text.endsWith("\n"));
    }

    @Test
    void fortranOrderIsRefused() throws IOException {
        assertRefused("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16, "Fortran order");
    }

    @Test
    void bigEndianIsRefused() throws IOException {
        assertRefused("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "'>f4' is not supported");
    }

    @Test
    void dataShorterThanTheShapeIsRefused() throws IOException {
        assertRefused("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8, "needs 12 data bytes but the file holds 8");
    }

    private void assertRefused(String dict, int dataBytes, String fragment) throws IOException {
        byte[] d = (dict + "\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] file = new byte[10 + d.length + dataBytes];
        byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) d.length, 0};
        System.arraycopy(magic, 0, file, 0, 10);
        System.arraycopy(d, 0, file, 10, d.length);
        Path p = tmp.resolve("bad.npy");
        Files.write(p, file);
        LmcException e = assertThrows(LmcException.class, () -> Npy.read(FileSystems.resolve(p.toString()), conf));
        assertEquals(3, e.exitCode().code());
        assertTrue(e.getMessage().contains("bad.npy") && e.getMessage().contains(fragment), e.getMessage());
    }
}
