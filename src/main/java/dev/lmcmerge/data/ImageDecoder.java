package dev.lmcmerge.data;

import dev.lmcmerge.config.LmcException;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Turns encoded image bytes (PNG, JPEG, BMP, GIF: whatever {@link ImageIO} reads) into
 * normalized float pixels in channel-first order [3, H, W].
 */
public final class ImageDecoder {
    private ImageDecoder() {}

    /**
     * Decodes, converts to 8-bit RGB, resizes (bilinear) and normalizes one image.
     *
     * @param where the file and row the bytes come from, for the error message
     * @return {@code 3 * height * width} floats, channel-first
     * @throws LmcException INVALID_INPUT naming {@code where} if the bytes are not a readable image
     */
    public static float[] pixels(byte[] encoded, ImagePreprocessing prep, String where) {
        BufferedImage rgb = resize(toRgb(decode(encoded, where)), prep.width(), prep.height());
        int h = prep.height();
        int w = prep.width();
        float[] mean = prep.mean();
        float[] std = prep.std();
        float[] out = new float[3 * h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = rgb.getRGB(x, y);
                int[] c = {(p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff};
                for (int ch = 0; ch < 3; ch++) {
                    // Same order as Hugging Face: rescale in double, then normalize, then cast to float32.
                    out[(ch * h + y) * w + x] = (float) ((c[ch] * prep.rescale() - mean[ch]) / std[ch]);
                }
            }
        }
        return out;
    }

    /**
     * Largest image decoded, in pixels (16384 x 16384): the header's size is checked before
     * decoding, since a few bytes of PNG header can claim a raster of many gigabytes.
     */
    static final long MAX_PIXELS = 1L << 28;

    static BufferedImage decode(byte[] encoded, String where) {
        if (encoded == null) {
            throw notAnImage(where);
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(encoded))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw notAnImage(where);
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS || pixels <= 0) {
                    throw LmcException.invalidInput(where, "image header claims " + reader.getWidth(0) + " x "
                            + reader.getHeight(0) + " pixels; at most " + MAX_PIXELS + " pixels are decoded");
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof LmcException l) {
                throw l;
            }
            throw LmcException.invalidInput(where, "unreadable image (" + e.getMessage() + ")");
        }
    }

    private static LmcException notAnImage(String where) {
        return LmcException.invalidInput(where, "unreadable image: not a format ImageIO decodes (PNG, JPEG, BMP, GIF)");
    }

    /**
     * 8-bit sRGB copy of any decoded image. Gray images are copied sample by sample: Java2D
     * treats their color space as linear and would brighten them when converting, unlike PIL's
     * {@code convert("RGB")}. Alpha is dropped, as PIL does.
     */
    static BufferedImage toRgb(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        ColorModel cm = img.getColorModel();
        if (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(cm instanceof IndexColorModel)) {
            Raster r = img.getRaster();
            double scale = 255.0 / ((1 << cm.getComponentSize(0)) - 1);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int v = (int) Math.round(r.getSample(x, y, 0) * scale);
                    out.setRGB(x, y, (v << 16) | (v << 8) | v);
                }
            }
            return out;
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                out.setRGB(x, y, img.getRGB(x, y) & 0xffffff);
            }
        }
        return out;
    }

    /** Bilinear resize with Java2D (no copy when the size already matches). */
    static BufferedImage resize(BufferedImage rgb, int width, int height) {
        if (rgb.getWidth() == width && rgb.getHeight() == height) {
            return rgb;
        }
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(rgb, 0, 0, width, height, null);
        } finally {
            g.dispose();
        }
        return out;
    }
}
