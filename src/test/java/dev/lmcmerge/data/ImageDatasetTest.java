package dev.lmcmerge.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDatasetTest {
    @TempDir
    Path dir;

    /** 2x2 RGB: red, green / blue, (10, 128, 250). */
    private static final int[][] RGB = {{0xff0000, 0x00ff00}, {0x0000ff, 0x0a80fa}};

    private static byte[] png(int[][] rgb) throws Exception {
        BufferedImage img = new BufferedImage(rgb[0].length, rgb.length, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < rgb.length; y++) {
            for (int x = 0; x < rgb[0].length; x++) {
                img.setRGB(x, y, rgb[y][x]);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    private Path model(int imageSize, String preprocessor) throws Exception {
        Path m = dir.resolve("vit");
        Files.createDirectories(m);
        Files.writeString(m.resolve("config.json"), "{\"model_type\": \"vit\", \"image_size\": " + imageSize
                + ", \"num_channels\": 3}");
        if (preprocessor != null) {
            Files.writeString(m.resolve("preprocessor_config.json"), preprocessor);
        }
        return m;
    }

    private static float expected(int v, double mean, double std) {
        return (float) ((v / 255.0 - mean) / std);
    }

    @Test
    void aPngIsDecodedChannelFirstRescaledAndNormalizedWithDefaults() throws Exception {
        ImagePreprocessing prep = ImagePreprocessing.fromModel(model(2, null).toString(), new Configuration());
        float[] px = ImageDecoder.pixels(png(RGB), prep, "mem");
        assertEquals(12, px.length);
        // [c][y][x]: red channel row 0 = (255, 0), row 1 = (0, 10)
        assertArrayEquals(new float[] {expected(255, .5, .5), expected(0, .5, .5), expected(0, .5, .5), expected(10, .5, .5)},
                java.util.Arrays.copyOfRange(px, 0, 4), 1e-7f);
        // green channel of pixel (1, 1) and blue channel of pixel (1, 1)
        assertEquals(expected(128, .5, .5), px[4 + 3], 1e-7f);
        assertEquals(expected(250, .5, .5), px[8 + 3], 1e-7f);
    }

    @Test
    void preprocessorConfigMeanAndStdAreUsed() throws Exception {
        Path m = model(2, "{\"image_mean\": [0.485, 0.456, 0.406], \"image_std\": [0.229, 0.224, 0.225],"
                + " \"rescale_factor\": 0.00392156862745098, \"do_rescale\": true, \"do_normalize\": true}");
        ImagePreprocessing prep = ImagePreprocessing.fromModel(m.toString(), new Configuration());
        float[] px = ImageDecoder.pixels(png(RGB), prep, "mem");
        assertEquals(expected(255, 0.485, 0.229), px[0], 1e-6f);
        assertEquals(expected(250, 0.406, 0.225), px[8 + 3], 1e-6f);
    }

    @Test
    void imagesAreResizedToTheModelsImageSize() throws Exception {
        int c = 0x336699;
        float[] px = ImageDecoder.pixels(png(new int[][] {{c, c}, {c, c}}), ImagePreprocessing.defaults(5), "mem");
        assertEquals(3 * 25, px.length);
        for (int i = 0; i < 25; i++) {
            assertEquals(expected(0x33, .5, .5), px[i], 1e-7f); // a constant image stays constant
            assertEquals(expected(0x99, .5, .5), px[50 + i], 1e-7f);
        }
    }

    @Test
    void grayImagesKeepTheirSampleValues() throws Exception {
        BufferedImage g = new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_GRAY);
        g.getRaster().setSample(0, 0, 0, 100);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(g, "png", out);
        float[] px = ImageDecoder.pixels(out.toByteArray(), ImagePreprocessing.defaults(1), "mem");
        assertArrayEquals(new float[] {expected(100, .5, .5), expected(100, .5, .5), expected(100, .5, .5)}, px, 1e-7f);
    }

    @Test
    void parquetRowsGiveBatchesOfPixelsAndLabels() throws Exception {
        Path f = dir.resolve("images.parquet");
        TestParquet.writeImages(f, List.of(png(RGB), png(RGB), png(RGB)), new long[] {3, 1, 4}, true);
        ImageDataset ds = ImageDatasets.load(f.toString());
        assertEquals(3, ds.size());
        ImagePreprocessing prep = ImagePreprocessing.defaults(2);
        try (NDManager m = NDManager.newBaseManager()) {
            ImageBatch b = ds.batch(m, 0, 2, prep);
            assertEquals(new Shape(2, 3, 2, 2), b.pixels().getShape());
            assertEquals(DataType.FLOAT32, b.pixels().getDataType());
            assertArrayEquals(new long[] {3, 1}, b.labels().toLongArray());
            assertArrayEquals(ImageDecoder.pixels(png(RGB), prep, "mem"), b.pixels().get(1).toFloatArray());
        }
        assertEquals(1, ds.split(Split.EVAL, 0.1).size());
        assertEquals(4, ds.split(Split.EVAL, 0.1).label(0));
    }

    @Test
    void anUnreadableImageIsInvalidInputNamingFileAndRow() throws Exception {
        Path f = dir.resolve("broken.parquet");
        TestParquet.writeImages(f, List.of(png(RGB), new byte[] {1, 2, 3}), new long[] {0, 1}, false);
        ImageDataset ds = ImageDatasets.load(f.toString());
        LmcException e = assertThrows(LmcException.class, () -> ds.pixels(1, ImagePreprocessing.defaults(2)));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("broken.parquet, row 1"), e.getMessage());
    }

    @Test
    void aPngHeaderClaimingTenGigapixelsIsRefusedBeforeDecoding() throws Exception {
        byte[] bomb = png(RGB);
        // IHDR's width and height sit at bytes 16..23, its CRC (over type and data) at 29..32.
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bomb);
        b.putInt(16, 100_000).putInt(20, 100_000);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bomb, 12, 17);
        b.putInt(29, (int) crc.getValue());
        LmcException e = assertThrows(LmcException.class, () -> ImageDecoder.pixels(bomb, ImagePreprocessing.defaults(2), "bomb.parquet, row 7"));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("bomb.parquet, row 7") && e.getMessage().contains("100000 x 100000"), e.getMessage());
    }

    @Test
    void aMissingLabelColumnIsInvalidInputNamingIt() throws Exception {
        Path f = dir.resolve("tokens.parquet");
        TestParquet.writeTokens(f, List.of(new long[] {1}), true);
        LmcException e = assertThrows(LmcException.class, () -> ImageDatasets.load(f.toString()));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("tokens.parquet") && e.getMessage().contains("image"), e.getMessage());
    }

    @Test
    void labelsOutsideTheModelsClassesAreInvalidInput() throws Exception {
        Path f = dir.resolve("labels.parquet");
        TestParquet.writeImages(f, List.of(png(RGB)), new long[] {10}, false);
        LmcException e = assertThrows(LmcException.class, () -> ImageDatasets.load(f.toString()).requireLabels(10));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("labels.parquet, row 0"), e.getMessage());
    }
}
