package dev.lmcmerge.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

/** Writes the small Parquet files the data tests read, with parquet-hadoop's example writer. */
final class TestParquet {
    private TestParquet() {}

    /** The 3-level LIST layout Spark and pyarrow write, with int64 or int32 elements. */
    static void writeTokens(Path file, List<long[]> rows, boolean int64) throws IOException {
        MessageType schema = MessageTypeParser.parseMessageType("message m { optional group input_ids (LIST) {"
                + " repeated group list { optional " + (int64 ? "int64" : "int32") + " element; } }"
                + " optional binary text (STRING); }");
        try (ParquetWriter<Group> w = writer(file, schema)) {
            SimpleGroupFactory f = new SimpleGroupFactory(schema);
            for (long[] row : rows) {
                Group g = f.newGroup();
                Group list = g.addGroup("input_ids");
                for (long id : row) {
                    if (int64) {
                        list.addGroup("list").append("element", id);
                    } else {
                        list.addGroup("list").append("element", (int) id);
                    }
                }
                g.append("text", "row");
                w.write(g);
            }
        }
    }

    /** A file whose only column is not {@code input_ids}. */
    static void writeWrongColumn(Path file) throws IOException {
        MessageType schema = MessageTypeParser.parseMessageType("message m { required int64 ids; }");
        try (ParquetWriter<Group> w = writer(file, schema)) {
            w.write(new SimpleGroupFactory(schema).newGroup().append("ids", 1L));
        }
    }

    /** Image rows: encoded bytes as a struct{bytes, path} (Hugging Face datasets' layout) or as plain binary. */
    static void writeImages(Path file, List<byte[]> images, long[] labels, boolean struct) throws IOException {
        String imageType = struct
                ? "optional group image { optional binary bytes; optional binary path (STRING); }"
                : "optional binary image;";
        MessageType schema = MessageTypeParser.parseMessageType("message m { " + imageType + " optional int64 label; }");
        try (ParquetWriter<Group> w = writer(file, schema)) {
            SimpleGroupFactory f = new SimpleGroupFactory(schema);
            for (int i = 0; i < images.size(); i++) {
                Group g = f.newGroup();
                if (struct) {
                    g.addGroup("image").append("bytes", Binary.fromConstantByteArray(images.get(i))).append("path", "x.png");
                } else {
                    g.append("image", Binary.fromConstantByteArray(images.get(i)));
                }
                g.append("label", labels[i]);
                w.write(g);
            }
        }
    }

    private static ParquetWriter<Group> writer(Path file, MessageType schema) throws IOException {
        Configuration conf = new Configuration();
        return ExampleParquetWriter.builder(HadoopOutputFile.fromPath(
                        new org.apache.hadoop.fs.Path(file.toUri()), conf))
                .withType(schema).withConf(conf).build();
    }
}
