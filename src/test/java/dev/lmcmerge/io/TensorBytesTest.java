package dev.lmcmerge.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.LmcException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** 16-bit float formats decode and encode exactly as IEEE 754 binary16 and bfloat16 define them. */
class TensorBytesTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "f16 {0} = {1}")
    @CsvSource({
        "0x0000, 0.0", "0x8000, -0.0", "0x3C00, 1.0", "0xC000, -2.0", "0x3555, 0.333251953125",
        "0x7BFF, 65504.0", "0x0400, 6.103515625E-5", "0x0001, 5.9604644775390625E-8",
        "0x03FF, 6.097555160522461E-5", "0x7C00, Infinity", "0xFC00, -Infinity"})
    void f16BitPatternsDecodeToTheirIeeeValues(String bits, float value) {
        assertEquals(Float.floatToIntBits(value), Float.floatToIntBits(TensorBytes.f16ToFloat(parse(bits))));
    }

    @ParameterizedTest(name = "bf16 {0} = {1}")
    @CsvSource({
        "0x3F80, 1.0", "0xC000, -2.0", "0x4049, 3.140625", "0x7F7F, 3.3895313892515355E38",
        "0x0080, 1.1754943508222875E-38", "0x0001, 9.183549615799121E-41", "0xFF80, -Infinity", "0x8000, -0.0"})
    void bf16BitPatternsDecodeToTheirValues(String bits, float value) {
        assertEquals(Float.floatToIntBits(value), Float.floatToIntBits(TensorBytes.bf16ToFloat(parse(bits))));
    }

    @Test
    void nanPatternsDecodeToNan() {
        assertTrue(Float.isNaN(TensorBytes.f16ToFloat((short) 0x7E00)));
        assertTrue(Float.isNaN(TensorBytes.bf16ToFloat((short) 0x7FC0)));
    }

    @Test
    void everyF16PatternSurvivesDecodeThenEncode() {
        for (int b = 0; b < 0x10000; b++) {
            float f = TensorBytes.f16ToFloat((short) b);
            short back = TensorBytes.floatToF16(f);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(TensorBytes.f16ToFloat(back)));
            } else {
                assertEquals((short) b, back, "bits 0x" + Integer.toHexString(b));
            }
        }
    }

    @Test
    void everyBf16PatternSurvivesDecodeThenEncode() {
        for (int b = 0; b < 0x10000; b++) {
            float f = TensorBytes.bf16ToFloat((short) b);
            short back = TensorBytes.floatToBf16(f);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(TensorBytes.bf16ToFloat(back)));
            } else {
                assertEquals((short) b, back, "bits 0x" + Integer.toHexString(b));
            }
        }
    }

    @ParameterizedTest(name = "f16({0}) = {1}")
    @CsvSource({
        "1.00048828125, 0x3C00",    // 1 + 2^-11: halfway, ties to the even 1.0
        "1.00146484375, 0x3C02",    // 1 + 3*2^-11: halfway, ties to the even 1 + 2^-9
        "1.0007, 0x3C01",           // nearer 1 + 2^-10
        "65519.0, 0x7BFF",          // below the halfway point to infinity
        "65520.0, 0x7C00",          // halfway between max and 2^16: overflows to infinity
        "2.9802322387695312E-8, 0x0000", // 2^-25: halfway between 0 and the smallest subnormal
        "8.940696716308594E-8, 0x0002",  // 1.5 * 2^-24: ties to even
        "-3.0E-6, 0x8032"})          // a negative subnormal
    void floatToF16RoundsToNearestEven(float value, String bits) {
        assertEquals(parse(bits), TensorBytes.floatToF16(value));
    }

    @ParameterizedTest(name = "bf16({0}) = {1}")
    @CsvSource({"1.00390625, 0x3F80", "1.01171875, 0x3F82", "3.14159265, 0x4049", "-1.0E-40, 0x8001"})
    void floatToBf16RoundsToNearestEven(float value, String bits) {
        assertEquals(parse(bits), TensorBytes.floatToBf16(value));
    }

    @Test
    void readFloat32UpcastsF16AndBf16BitsStoredInAFile() throws IOException {
        short[] f16 = {0x3C00, (short) 0xC000, 0x3555, 0x0001};
        short[] bf16 = {0x3F80, (short) 0xC000, 0x4049, 0x0001};
        double[] f64 = {0.1, -1e300};
        org.apache.hadoop.fs.Path file = FileSystems.resolve(tmp.resolve("h.safetensors").toString());
        SafetensorsWriter.write(file, new Configuration(), List.of(
                TensorSource.of("h", DType.F16, new long[] {4}, () -> shorts(f16)),
                TensorSource.of("b", DType.BF16, new long[] {2, 2}, () -> shorts(bf16)),
                TensorSource.of("d", DType.F64, new long[] {2}, () -> {
                    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
                    b.asDoubleBuffer().put(f64);
                    return b;
                })));
        try (SafetensorsReader r = SafetensorsReader.open(file, new Configuration())) {
            assertArrayEquals(new float[] {1f, -2f, 0.333251953125f, 0x1p-24f}, r.readFloat32("h"));
            assertArrayEquals(new float[] {1f, -2f, 3.140625f, 0x1p-133f}, r.readFloat32("b"));
            assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY}, r.readFloat32("d"));
        }
    }

    @Test
    void integerBytesAreNotDecodedAsFloats() {
        LmcException e = assertThrows(LmcException.class,
                () -> TensorBytes.toFloats(ByteBuffer.allocate(8), DType.I64, 1, "f tensor 'ids'"));
        assertTrue(e.getMessage().startsWith("f tensor 'ids': dtype I64 is an integer type"), e.getMessage());
    }

    private static ByteBuffer shorts(short[] s) {
        ByteBuffer b = ByteBuffer.allocate(2 * s.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asShortBuffer().put(s);
        return b;
    }

    private static short parse(String hex) {
        return (short) Integer.parseInt(hex.substring(2), 16);
    }
}
