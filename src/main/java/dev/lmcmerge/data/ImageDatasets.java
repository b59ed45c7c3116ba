package dev.lmcmerge.data;

import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.FileSystems;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;

/**
 * Opens image classification datasets stored in Parquet, one example per row: an {@code image}
 * column holding the encoded file bytes (a binary column, or a struct with a binary
 * {@code bytes} field as Hugging Face {@code datasets} writes its Image feature) and an integer
 * {@code label} column. Files and rows are read in order (see {@link ParquetFiles}).
 */
public final class ImageDatasets {
    public static final String IMAGE = "image";
    public static final String LABEL = "label";

    private ImageDatasets() {}

    /**
     * Reads every row's encoded bytes and label (images are decoded later, per batch).
     *
     * @throws LmcException INVALID_INPUT naming the file for missing or mistyped columns, null
     *                      values, or an empty dataset
     */
    public static ImageDataset load(String location, Configuration conf) {
        Path root = FileSystems.resolve(location);
        List<byte[]> images = new ArrayList<>();
        List<Long> labels = new ArrayList<>();
        List<String> origins = new ArrayList<>();
        for (Path file : ParquetFiles.list(root, conf)) {
            readFile(file, conf, images, labels, origins);
        }
        if (images.isEmpty()) {
            throw LmcException.invalidInput(root.toString(), "empty dataset: no image rows");
        }
        long[] l = new long[labels.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = labels.get(i);
        }
        return new ImageDataset(root.toString(), images, l, origins);
    }

    /** {@link #load(String, Configuration)} with a default Hadoop configuration. */
    public static ImageDataset load(String location) {
        return load(location, new Configuration());
    }

    private static void readFile(Path file, Configuration conf, List<byte[]> images, List<Long> labels,
                                 List<String> origins) {
        ParquetFiles.Footer footer = ParquetFiles.footer(file, conf);
        MessageType schema = footer.schema();
        Type image = ParquetFiles.requireField(schema, IMAGE, "encoded image bytes: binary or struct{bytes}", file);
        Type label = ParquetFiles.requireField(schema, LABEL, "an integer class index", file);
        boolean wrapped = !image.isPrimitive();
        int bytesField = 0;
        if (wrapped) {
            GroupType g = image.asGroupType();
            if (!g.containsField("bytes") || !g.getType("bytes").isPrimitive()
                    || g.getType("bytes").asPrimitiveType().getPrimitiveTypeName() != PrimitiveTypeName.BINARY) {
                throw LmcException.invalidInput(file.toString(), "column " + IMAGE + " is " + image
                        + "; expected binary or a struct with a binary 'bytes' field");
            }
            bytesField = g.getFieldIndex("bytes");
        } else if (image.asPrimitiveType().getPrimitiveTypeName() != PrimitiveTypeName.BINARY) {
            throw LmcException.invalidInput(file.toString(), "column " + IMAGE + " is " + image + "; expected binary image bytes");
        }
        if (!label.isPrimitive() || !(label.asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.INT32
                || label.asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.INT64)) {
            throw LmcException.invalidInput(file.toString(), "column " + LABEL + " is " + label + "; expected int32 or int64");
        }
        boolean label64 = label.asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.INT64;
        int bytesIndex = bytesField;
        ParquetFiles.forEachRow(footer, conf, (g, row) -> {
            String where = file + ", row " + row;
            byte[] bytes = null;
            if (g.getFieldRepetitionCount(0) > 0) {
                if (wrapped) {
                    Group s = g.getGroup(0, 0);
                    bytes = s.getFieldRepetitionCount(bytesIndex) > 0 ? s.getBinary(bytesIndex, 0).getBytes() : null;
                } else {
                    bytes = g.getBinary(0, 0).getBytes();
                }
            }
            if (bytes == null) {
                throw LmcException.invalidInput(where, "column " + IMAGE + " is null; expected encoded image bytes");
            }
            if (g.getFieldRepetitionCount(1) == 0) {
                throw LmcException.invalidInput(where, "column " + LABEL + " is null; expected a class index");
            }
            images.add(bytes);
            labels.add(label64 ? g.getLong(1, 0) : g.getInteger(1, 0));
            origins.add(where);
        }, IMAGE, LABEL);
    }
}
