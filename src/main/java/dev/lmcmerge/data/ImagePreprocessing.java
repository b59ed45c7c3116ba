package dev.lmcmerge.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.FileSystems;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * How images become a ViT's {@code pixel_values}, following Hugging Face's
 * {@code ViTImageProcessor}: convert to RGB, resize (bilinear) to the model's
 * {@code image_size}, multiply by {@code rescale_factor} (1/255), then normalize per channel
 * {@code (x - mean) / std}.
 *
 * @param height     output height in pixels
 * @param width      output width in pixels
 * @param rescale    factor applied to 0..255 values ({@code 1/255} unless {@code do_rescale} is false)
 * @param mean       per-channel mean (R, G, B), subtracted after rescaling
 * @param std        per-channel standard deviation (R, G, B)
 */
public record ImagePreprocessing(int height, int width, double rescale, float[] mean, float[] std) {
    /** Hugging Face's ImageNet-standard defaults used by ViT when nothing else is given. */
    public static final float[] DEFAULT_MEAN = {0.5f, 0.5f, 0.5f};
    public static final float[] DEFAULT_STD = {0.5f, 0.5f, 0.5f};

    public ImagePreprocessing {
        mean = mean.clone();
        std = std.clone();
        if (height <= 0 || width <= 0 || mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("size " + height + "x" + width + ", mean " + Arrays.toString(mean)
                    + ", std " + Arrays.toString(std));
        }
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /** Square images of {@code size}, rescaled by 1/255 and normalized with mean = std = 0.5. */
    public static ImagePreprocessing defaults(int size) {
        return new ImagePreprocessing(size, size, 1.0 / 255, DEFAULT_MEAN, DEFAULT_STD);
    }

    /**
     * The preprocessing a model folder asks for. The output size is the model's
     * {@code image_size} (config.json), which the position embeddings fix. Rescaling and
     * normalization come from {@code preprocessor_config.json} when the folder has one
     * ({@code do_rescale}, {@code rescale_factor}, {@code do_normalize}, {@code image_mean},
     * {@code image_std}), else from {@code image_mean}/{@code image_std} keys of config.json,
     * else 0.5 / 0.5.
     *
     * @throws LmcException INVALID_INPUT naming the file and key for missing or malformed values
     */
    public static ImagePreprocessing fromModel(String modelLocation, Configuration conf) {
        Path folder = FileSystems.resolve(modelLocation);
        Path configFile = new Path(folder, "config.json");
        JsonNode config = readJson(configFile, conf);
        int[] size = imageSize(config, configFile);
        int channels = config.path("num_channels").asInt(3);
        if (channels != 3) {
            throw LmcException.invalidInput(configFile + ": num_channels", "is " + channels + "; only RGB images (3) are supported");
        }
        float[] mean = floats3(config, "image_mean", configFile, DEFAULT_MEAN);
        float[] std = floats3(config, "image_std", configFile, DEFAULT_STD);
        double rescale = 1.0 / 255;
        Path pre = new Path(folder, "preprocessor_config.json");
        if (FileSystems.exists(pre, conf)) {
            JsonNode p = readJson(pre, conf);
            if (p.path("do_rescale").asBoolean(true)) {
                rescale = p.path("rescale_factor").asDouble(1.0 / 255);
            } else {
                rescale = 1.0;
            }
            if (p.path("do_normalize").asBoolean(true)) {
                mean = floats3(p, "image_mean", pre, mean);
                std = floats3(p, "image_std", pre, std);
            } else {
                mean = new float[] {0, 0, 0};
                std = new float[] {1, 1, 1};
            }
        }
        for (int c = 0; c < 3; c++) {
            if (!(std[c] > 0)) {
                throw LmcException.invalidInput(folder.toString(), "image_std " + Arrays.toString(std) + " must be positive");
            }
        }
        return new ImagePreprocessing(size[0], size[1], rescale, mean, std);
    }

    private static int[] imageSize(JsonNode config, Path file) {
        JsonNode s = config.get("image_size");
        if (s != null && s.isInt() && s.asInt() > 0) {
            return new int[] {s.asInt(), s.asInt()};
        }
        if (s != null && s.isArray() && s.size() == 2 && s.get(0).asInt() > 0 && s.get(1).asInt() > 0) {
            return new int[] {s.get(0).asInt(), s.get(1).asInt()};
        }
        throw LmcException.invalidInput(file + ": image_size", "missing or not a positive integer (or [height, width])");
    }

    private static float[] floats3(JsonNode node, String key, Path file, float[] fallback) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return fallback.clone();
        }
        if (v.isNumber()) {
            float f = (float) v.asDouble();
            return new float[] {f, f, f};
        }
        if (!v.isArray() || v.size() != 3 || !v.get(0).isNumber() || !v.get(1).isNumber() || !v.get(2).isNumber()) {
            throw LmcException.invalidInput(file + ": " + key, "expected three numbers (R, G, B), got " + v);
        }
        return new float[] {(float) v.get(0).asDouble(), (float) v.get(1).asDouble(), (float) v.get(2).asDouble()};
    }

    private static JsonNode readJson(Path file, Configuration conf) {
        FileSystems.requireExists(file, conf, "model file");
        try (InputStream in = FileSystems.fs(file, conf).open(file)) {
            return new ObjectMapper().readTree(in);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw LmcException.invalidInput(file.toString(), "not valid JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw FileSystems.ioError(file.toString(), "cannot read", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImagePreprocessing p && height == p.height && width == p.width && rescale == p.rescale
                && Arrays.equals(mean, p.mean) && Arrays.equals(std, p.std);
    }

    @Override
    public int hashCode() {
        return height * 31 + width;
    }

    @Override
    public String toString() {
        return "ImagePreprocessing[" + height + "x" + width + ", rescale " + rescale + ", mean " + Arrays.toString(mean)
                + ", std " + Arrays.toString(std) + "]";
    }
}
