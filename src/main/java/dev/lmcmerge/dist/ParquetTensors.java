package dev.lmcmerge.dist;

import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.io.ParquetStreams;
import dev.lmcmerge.io.TensorInfo;
import dev.lmcmerge.io.TensorSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * Tensors as Parquet rows, one row per chunk of a tensor's raw bytes and one row group per row
 * (so a reader can fetch any chunk alone):
 *
 * <pre>
 *   name  string         tensor name
 *   chunk int32          0-based chunk index within the tensor
 *   dtype string         safetensors dtype (F32, BF16, F16)
 *   shape list&lt;int64&gt;   the tensor's shape (same in every chunk row)
 *   data  binary         bytes [chunk * CHUNK_BYTES, ...) of the little-endian tensor data
 * </pre>
 *
 * Written with parquet-hadoop directly (no Spark), so each executor task writes its own part file.
 */
public final class ParquetTensors {
    /** Bytes of tensor data per row (and row group). */
    public static final int CHUNK_BYTES = 16 << 20;

    /** The file schema. */
    public static final MessageType SCHEMA = Types.buildMessage()
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("name")
            .required(PrimitiveTypeName.INT32).named("chunk")
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("dtype")
            .requiredList().requiredElement(PrimitiveTypeName.INT64).named("shape")
            .required(PrimitiveTypeName.BINARY).named("data")
            .named("tensor_chunk");

    private ParquetTensors() {}

    /**
     * Writes {@code tensors} (pulled one at a time) to one Parquet file.
     *
     * @return bytes of tensor data written
     */
    public static long write(Path file, Configuration conf, List<? extends TensorSource> tensors) {
        return write(file, conf, tensors, CHUNK_BYTES);
    }

    /** As {@link #write(Path, Configuration, List)} with {@code chunkBytes} per row (tests use small chunks). */
    static long write(Path file, Configuration conf, List<? extends TensorSource> tensors, int chunkBytes) {
        SimpleGroupFactory rows = new SimpleGroupFactory(SCHEMA);
        long total = 0;
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(ParquetStreams.output(file, conf)).withConf(conf).withType(SCHEMA)
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                .withCompressionCodec(CompressionCodecName.UNCOMPRESSED)
                .withDictionaryEncoding(false)
                .withRowGroupRowCountLimit(1)
                .withRowGroupSize((long) chunkBytes + (1 << 20))
                .withPageSize(1 << 20)
                .build()) {
            for (TensorSource t : tensors) {
                TensorInfo info = t.info();
                ChunkingStream out = new ChunkingStream(chunkBytes, chunk -> {
                    Group g = rows.newGroup()
                            .append("name", info.name())
                            .append("chunk", chunk.index)
                            .append("dtype", info.dtype().safetensorsName());
                    Group shape = g.addGroup("shape");
                    for (long d : info.shape()) {
                        shape.addGroup("list").append("element", d);
                    }
                    g.append("data", Binary.fromConstantByteArray(chunk.bytes, 0, chunk.length));
                    w.write(g);
                });
                t.writeTo(out);
                out.finish();
                total += out.total;
            }
        } catch (IOException e) {
            throw FileSystems.ioError(file.toString(), "cannot write Parquet tensor file", e);
        }
        return total;
    }

    /** One chunk of a tensor. */
    private record Chunk(int index, byte[] bytes, int length) {}

    private interface ChunkSink {
        void accept(Chunk c) throws IOException;
    }

    /** Cuts a tensor's byte stream into rows of {@code chunkBytes}; an empty tensor still gets one row. */
    private static final class ChunkingStream extends OutputStream {
        private final int chunkBytes;
        private final ChunkSink sink;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private int index;
        private long total;

        ChunkingStream(int chunkBytes, ChunkSink sink) {
            this.chunkBytes = chunkBytes;
            this.sink = sink;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int n = Math.min(len, chunkBytes - buf.size());
                buf.write(b, off, n);
                off += n;
                len -= n;
                total += n;
                if (buf.size() == chunkBytes) {
                    flushChunk();
                }
            }
        }

        private void flushChunk() throws IOException {
            byte[] bytes = buf.toByteArray();
            sink.accept(new Chunk(index++, bytes, bytes.length));
            buf.reset();
        }

        void finish() throws IOException {
            if (buf.size() > 0 || index == 0) {
                flushChunk();
            }
        }
    }

    /** dtype of a row, for readers. */
    public static DType dtypeOf(String name) {
        return DType.fromSafetensors(name, "parquet tensor row");
    }
}
