package dev.lmcmerge.dist;

import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.io.ParquetStreams;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * Writes one method's rows of {@code transforms/} as a Parquet file, streamed from the driver's
 * own arrays with parquet-hadoop. A Spark DataFrame of these rows would box every float (about
 * 20 bytes each on the heap) and ship the whole table inside one task: at a Pythia-1B shape that
 * is a 250 MB task and a driver heap OutOfMemoryError. The file has the schema Spark writes for
 * {@link ResultTables#TRANSFORMS} (standard three-level lists) and carries Spark's schema
 * metadata, so Spark, pandas and pyarrow read it exactly as a Spark-written one.
 */
final class TransformsParquet {
    /** The file schema: {@link ResultTables#TRANSFORMS} as Spark stores it. */
    static final MessageType SCHEMA = Types.buildMessage()
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("run_id")
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("model")
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("slot")
            .required(PrimitiveTypeName.INT32).named("layer")
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("kind")
            .requiredList().requiredElement(PrimitiveTypeName.INT32).named("shape")
            .requiredList().requiredElement(PrimitiveTypeName.FLOAT).named("values")
            .named("spark_schema");

    /** The footer key Spark reads its own schema from (ParquetReadSupport.SPARK_METADATA_KEY). */
    static final String SPARK_SCHEMA_KEY = "org.apache.spark.sql.parquet.row.metadata";

    /** Row groups close at this size; the writer checks after every row, so a group holds at most this plus one row. */
    private static final long ROW_GROUP_BYTES = 32L << 20;

    private TransformsParquet() {}

    /** Writes {@code rows} (all of one method) to {@code file}, replacing nothing: the file must not exist. */
    static void write(Path file, Configuration conf, List<ResultRows.Transform> rows) {
        try (ParquetWriter<ResultRows.Transform> w = new Builder(file, conf).withConf(conf)
                .withWriteMode(ParquetFileWriter.Mode.CREATE)
                .withCompressionCodec(CompressionCodecName.SNAPPY)
                .withRowGroupSize(ROW_GROUP_BYTES)
                .withMinRowCountForPageSizeCheck(1)
                .withMaxRowCountForPageSizeCheck(1)
                .build()) {
            for (ResultRows.Transform t : rows) {
                w.write(t);
            }
        } catch (IOException e) {
            throw FileSystems.ioError(file.toString(), "cannot write the transforms table", e);
        }
    }

    private static final class Builder extends ParquetWriter.Builder<ResultRows.Transform, Builder> {
        Builder(Path file, Configuration conf) {
            super(ParquetStreams.output(file, conf));
        }

        @Override
        protected Builder self() {
            return this;
        }

        @Override
        protected WriteSupport<ResultRows.Transform> getWriteSupport(Configuration conf) {
            return new RowWriter();
        }
    }

    /** Emits a row field by field; the values array goes straight to the column writer, never boxed. */
    private static final class RowWriter extends WriteSupport<ResultRows.Transform> {
        private RecordConsumer out;

        @Override
        public WriteContext init(Configuration configuration) {
            Map<String, String> meta = new HashMap<>();
            meta.put(SPARK_SCHEMA_KEY, ResultTables.TRANSFORMS.json());
            return new WriteContext(SCHEMA, meta);
        }

        @Override
        public void prepareForWrite(RecordConsumer recordConsumer) {
            this.out = recordConsumer;
        }

        @Override
        public void write(ResultRows.Transform t) {
            out.startMessage();
            string(0, "run_id", t.runId());
            string(1, "model", t.model());
            string(2, "slot", t.slot());
            out.startField("layer", 3);
            out.addInteger(t.layer());
            out.endField("layer", 3);
            string(4, "kind", t.kind());
            list(5, "shape", t.shape().length, i -> out.addInteger(t.shape()[i]));
            list(6, "values", t.values().length, i -> out.addFloat(t.values()[i]));
            out.endMessage();
        }

        private void string(int index, String name, String value) {
            out.startField(name, index);
            out.addBinary(Binary.fromString(value));
            out.endField(name, index);
        }

        /** A required three-level list: an empty list has no {@code list} field at all. */
        private void list(int index, String name, int length, java.util.function.IntConsumer element) {
            out.startField(name, index);
            out.startGroup();
            if (length > 0) {
                out.startField("list", 0);
                for (int i = 0; i < length; i++) {
                    out.startGroup();
                    out.startField("element", 0);
                    element.accept(i);
                    out.endField("element", 0);
                    out.endGroup();
                }
                out.endField("list", 0);
            }
            out.endGroup();
            out.endField(name, index);
        }
    }
}
