package dev.lmcmerge.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.HashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.bytes.HeapByteBufferAllocator;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.column.page.DictionaryPage;
import org.apache.parquet.column.statistics.Statistics;
import org.apache.parquet.column.values.rle.RunLengthBitPackingHybridEncoder;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
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

    /**
     * A bare {@code repeated int32 input_ids} column written page by page with parquet-mr's
     * low-level writer, so its counts are whatever is asked: {@code rows} rows of
     * {@code idsPerRow} copies of id 7 (0: empty lists), every level and index one run-length run.
     * A few hundred bytes stand for any number of ids, the way a decompression bomb is built.
     */
    static void writeRunOfOneId(Path file, int rows, int idsPerRow) throws IOException {
        MessageType schema = MessageTypeParser.parseMessageType("message m { repeated int32 input_ids; }");
        ColumnDescriptor column = schema.getColumns().get(0);
        int entries = rows * Math.max(1, idsPerRow);
        ParquetFileWriter w = new ParquetFileWriter(HadoopOutputFile.fromPath(
                new org.apache.hadoop.fs.Path(file.toUri()), new Configuration()), schema,
                ParquetFileWriter.Mode.OVERWRITE, 1 << 20, 0);
        w.start();
        w.startBlock(rows);
        w.startColumn(column, entries, CompressionCodecName.UNCOMPRESSED);
        w.writeDictionaryPage(new DictionaryPage(BytesInput.from(new byte[] {7, 0, 0, 0}), 1, Encoding.PLAIN_DICTIONARY));
        BytesInput repetition = lengthPrefixed(run(entries, 0, idsPerRow > 1 ? 1 : 0));
        BytesInput definition = lengthPrefixed(run(entries, idsPerRow > 0 ? 1 : 0, idsPerRow > 0 ? 1 : 0));
        BytesInput indices = idsPerRow > 0 ? BytesInput.concat(BytesInput.from(new byte[] {1}), run(entries, 0, 0))
                : BytesInput.empty();
        BytesInput page = BytesInput.concat(repetition, definition, indices);
        w.writeDataPage(entries, (int) page.size(), page, Statistics.createStats(column.getPrimitiveType()),
                Encoding.RLE, Encoding.RLE, Encoding.RLE_DICTIONARY);
        w.endColumn();
        w.endBlock();
        w.end(new HashMap<>());
    }

    /** {@code n} one-bit levels: {@code first}, then {@code rest} repeated (one run after the first value). */
    private static BytesInput run(int n, int first, int rest) throws IOException {
        RunLengthBitPackingHybridEncoder e = new RunLengthBitPackingHybridEncoder(1, 64, 1024, new HeapByteBufferAllocator());
        for (int i = 0; i < n; i++) {
            e.writeInt(i == 0 ? first : rest);
        }
        return BytesInput.copy(e.toBytes());
    }

    /** A data page v1's levels: their byte length as 4 little-endian bytes, then the bytes. */
    private static BytesInput lengthPrefixed(BytesInput levels) throws IOException {
        return BytesInput.concat(BytesInput.fromInt((int) levels.size()), levels);
    }

    private static ParquetWriter<Group> writer(Path file, MessageType schema) throws IOException {
        Configuration conf = new Configuration();
        return ExampleParquetWriter.builder(HadoopOutputFile.fromPath(
                        new org.apache.hadoop.fs.Path(file.toUri()), conf))
                .withType(schema).withConf(conf).build();
    }
}
