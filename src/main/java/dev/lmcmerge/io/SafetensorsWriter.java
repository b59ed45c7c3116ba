package dev.lmcmerge.io;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Writes one safetensors file the way Hugging Face does: 8-byte little-endian header length,
 * compact JSON header padded with spaces to a multiple of 8 bytes, {@code __metadata__
 * {"format":"pt"}}, then the tensors back to back in header order. Tensors are pulled from
 * their {@link TensorSource} one at a time.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    /** The metadata transformers writes and requires when loading ({@code format} = pt). */
    public static final Map<String, String> PT_METADATA = Map.of("format", "pt");

    /**
     * Writes {@code tensors} in the given order to {@code file} (overwriting it) with
     * {@link #PT_METADATA}.
     *
     * @return the tensors as laid out in the file
     */
    public static List<TensorInfo> write(Path file, Configuration conf, List<? extends TensorSource> tensors) {
        return write(file, conf, tensors, PT_METADATA);
    }

    /** As {@link #write(Path, Configuration, List)} with the given {@code __metadata__}. */
    public static List<TensorInfo> write(Path file, Configuration conf, List<? extends TensorSource> tensors,
                                         Map<String, String> metadata) {
        List<TensorInfo> layout = layout(tensors);
        byte[] header = SafetensorsHeader.encode(layout, metadata);
        FileSystem fs = FileSystems.fs(file, conf);
        String where = file.toString();
        try (FSDataOutputStream raw = fs.create(file, true)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            raw.write(len.array());
            raw.write(header);
            for (int i = 0; i < layout.size(); i++) {
                TensorInfo t = layout.get(i);
                Counting out = new Counting(raw);
                tensors.get(i).writeTo(out);
                if (out.count != t.byteLength()) {
                    throw new LmcException(ExitCode.FAILURE, where + " tensor '" + t.name() + "': its source wrote "
                            + out.count + " bytes; expected " + t.byteLength() + " for " + t);
                }
            }
        } catch (IOException e) {
            throw FileSystems.ioError(where, "cannot write safetensors file", e);
        }
        return layout;
    }

    /** Offsets for the tensors back to back in the given order. */
    static List<TensorInfo> layout(List<? extends TensorSource> tensors) {
        List<TensorInfo> out = new ArrayList<>(tensors.size());
        long offset = 0;
        for (TensorSource s : tensors) {
            TensorInfo t = s.info().at(offset);
            out.add(t);
            offset = t.end();
        }
        return out;
    }

    /**
     * The order the Python safetensors library stores tensors in: larger dtypes first (keeps
     * every tensor aligned to its element size), then by name. Used so that files we write are
     * laid out like the ones {@code save_pretrained} writes.
     */
    public static final Comparator<TensorInfo> SAFETENSORS_ORDER =
            Comparator.comparingInt((TensorInfo t) -> -rank(t.dtype())).thenComparing(TensorInfo::name);

    /** The position of a dtype in the safetensors library's Dtype enum, which orders by size. */
    private static int rank(DType d) {
        return switch (d) {
            case BOOL -> 0;
            case U8 -> 1;
            case I8 -> 2;
            case I16 -> 3;
            case F16 -> 4;
            case BF16 -> 5;
            case I32 -> 6;
            case F32 -> 7;
            case F64 -> 8;
            case I64 -> 9;
        };
    }

    /** Counts bytes passing through, without closing the underlying stream. */
    private static final class Counting extends FilterOutputStream {
        long count;

        Counting(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        @Override
        public void close() {
            // the file stream is closed by the writer
        }
    }
}
