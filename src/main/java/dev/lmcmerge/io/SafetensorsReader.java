package dev.lmcmerge.io;

import dev.lmcmerge.config.LmcException;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads one safetensors file from any Hadoop file system, one tensor at a time.
 *
 * <p>The header is validated strictly when the file is opened (see {@link SafetensorsHeader}).
 * Tensor bytes are never copied whole-file into the heap: on the local disk a tensor is a
 * read-only memory-mapped view of the file; elsewhere (HDFS, S3) it is read with positioned
 * reads into a direct buffer. Positioned reads make one reader safe to share between threads.
 */
public final class SafetensorsReader implements Closeable {
    /** Copy granularity for non-local reads: big enough for throughput, small on the heap. */
    private static final int CHUNK = 1 << 20;

    /**
     * Hadoop configuration key: the longest JSON header a file may declare, in bytes (default
     * {@link SafetensorsHeader#MAX_HEADER_BYTES}, 100 MB, as Hugging Face's reader). Checked, with
     * the file length, before the header is read into memory.
     */
    public static final String MAX_HEADER_BYTES_KEY = "lmc.safetensors.max-header-bytes";

    /**
     * Hadoop configuration key: the largest tensor a file may hold, in bytes (default
     * {@link #DEFAULT_MAX_TENSOR_BYTES}). Checked for every tensor when the file is opened, so a
     * header declaring a tensor above it is refused before any tensor buffer is allocated.
     */
    public static final String MAX_TENSOR_BYTES_KEY = "lmc.safetensors.max-tensor-bytes";

    /** 16 GiB: above the largest single tensor of released models (a 256k x 16k BF16 embedding is 8 GiB). */
    public static final long DEFAULT_MAX_TENSOR_BYTES = 16L << 30;

    private final Path file;
    private final String where;
    private final long dataStart;
    private final SafetensorsHeader header;
    private final FileChannel channel; // local files
    private final FSDataInputStream in; // any other file system

    private SafetensorsReader(Path file, long dataStart, SafetensorsHeader header,
                              FileChannel channel, FSDataInputStream in) {
        this.file = file;
        this.where = file.toString();
        this.dataStart = dataStart;
        this.header = header;
        this.channel = channel;
        this.in = in;
    }

    /**
     * Opens and validates a safetensors file.
     *
     * @throws LmcException INVALID_INPUT if the file does not exist or is malformed
     */
    public static SafetensorsReader open(Path file, Configuration conf) {
        FileSystem fs = FileSystems.fs(file, conf);
        String where = file.toString();
        long length = FileSystems.requireExists(file, conf, "safetensors file").getLen();
        FileChannel channel = null;
        FSDataInputStream in = null;
        try {
            if (FileSystems.isLocal(fs)) {
                channel = FileChannel.open(FileSystems.localFile(fs, file).toPath(), StandardOpenOption.READ);
            } else {
                in = fs.open(file);
            }
            if (length < 8) {
                throw LmcException.invalidInput(where, "file is " + length
                        + " bytes; a safetensors file starts with an 8-byte header length (truncated file?)");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, in, 0, len, where);
            long maxHeader = Math.min(conf.getLong(MAX_HEADER_BYTES_KEY, SafetensorsHeader.MAX_HEADER_BYTES),
                    Integer.MAX_VALUE - 8);
            long n = SafetensorsHeader.checkHeaderLength(len.getLong(0), length, maxHeader, where);
            ByteBuffer json = ByteBuffer.allocate((int) n);
            readFully(channel, in, 8, json, where);
            SafetensorsHeader header = SafetensorsHeader.parse(json.array(), length - 8 - n, where);
            checkTensorCap(header, conf.getLong(MAX_TENSOR_BYTES_KEY, DEFAULT_MAX_TENSOR_BYTES), where);
            return new SafetensorsReader(file, 8 + n, header, channel, in);
        } catch (IOException e) {
            closeQuietly(channel, in);
            throw FileSystems.ioError(where, "cannot read safetensors file", e);
        } catch (RuntimeException e) {
            closeQuietly(channel, in);
            throw e;
        }
    }

    private static void checkTensorCap(SafetensorsHeader header, long cap, String where) {
        for (TensorInfo t : header.tensors().values()) {
            if (t.byteLength() > cap) {
                throw LmcException.invalidInput(where + " tensor '" + t.name() + "'", t.byteLength()
                        + " bytes exceed the limit of " + cap + " bytes per tensor (" + MAX_TENSOR_BYTES_KEY
                        + "); raise it in the Hadoop configuration if the checkpoint is genuine");
            }
        }
    }

    /** The file read. */
    public Path file() {
        return file;
    }

    /** All tensors, ordered by offset. */
    public Map<String, TensorInfo> tensors() {
        return header.tensors();
    }

    /** The {@code __metadata__} map (empty if absent). */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** The tensor named {@code name}. */
    public TensorInfo info(String name) {
        TensorInfo t = header.tensors().get(name);
        if (t == null) {
            throw LmcException.invalidInput(where, "no tensor named '" + name + "'");
        }
        return t;
    }

    /** True if the file holds a tensor named {@code name}. */
    public boolean contains(String name) {
        return header.tensors().containsKey(name);
    }

    /**
     * The raw bytes of a tensor: little-endian, exactly {@link TensorInfo#byteLength()} bytes,
     * position 0, off the heap (a memory map locally, a direct buffer otherwise).
     *
     * @throws LmcException INVALID_INPUT if there is no such tensor or it exceeds 2 GB (use {@link #openStream})
     */
    public ByteBuffer read(String name) {
        TensorInfo t = info(name);
        if (t.byteLength() > Integer.MAX_VALUE) {
            throw LmcException.invalidInput(where + " tensor '" + name + "'", t.byteLength()
                    + " bytes exceed one buffer (2 GB); read it with openStream");
        }
        try {
            if (channel != null) {
                return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin(), t.byteLength())
                        .order(ByteOrder.LITTLE_ENDIAN);
            }
            ByteBuffer out = ByteBuffer.allocateDirect((int) t.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
            readFully(null, in, dataStart + t.begin(), out, where);
            out.flip();
            return out;
        } catch (IOException e) {
            throw FileSystems.ioError(where + " tensor '" + name + "'", "cannot read tensor", e);
        }
    }

    /**
     * A tensor decoded to float32: F32 as is, F16 and BF16 widened, F64 narrowed.
     *
     * @throws LmcException INVALID_INPUT for integer tensors
     */
    public float[] readFloat32(String name) {
        TensorInfo t = info(name);
        String w = where + " tensor '" + name + "'";
        if (!t.dtype().isFloating()) {
            throw LmcException.invalidInput(w, "dtype " + t.dtype().safetensorsName()
                    + " is an integer type; expected a floating type (F32, F16, BF16, F64) for a weight");
        }
        return TensorBytes.toFloats(read(name), t.dtype(), t.numel(), w);
    }

    /**
     * A stream over the bytes of a tensor of any size, read with positioned reads (the
     * stream does not move any shared file position, so several may be open at once).
     */
    public InputStream openStream(String name) {
        TensorInfo t = info(name);
        return new RangeStream(dataStart + t.begin(), dataStart + t.end());
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
        if (in != null) {
            in.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsReader[" + where + ", " + header.tensors().size() + " tensors]";
    }

    private static void readFully(FileChannel ch, FSDataInputStream in, long position, ByteBuffer dst, String where)
            throws IOException {
        if (ch != null) {
            long pos = position;
            while (dst.hasRemaining()) {
                int n = ch.read(dst, pos);
                if (n < 0) {
                    throw new EOFException(where + ": unexpected end of file at byte " + pos);
                }
                pos += n;
            }
            return;
        }
        if (dst.hasArray()) {
            in.readFully(position, dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            dst.position(dst.limit());
            return;
        }
        byte[] chunk = new byte[Math.min(CHUNK, dst.remaining())];
        long pos = position;
        while (dst.hasRemaining()) {
            int n = Math.min(chunk.length, dst.remaining());
            in.readFully(pos, chunk, 0, n);
            dst.put(chunk, 0, n);
            pos += n;
        }
    }

    private static void closeQuietly(Closeable... cs) {
        for (Closeable c : cs) {
            if (c != null) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // already failing; the first error is the one to report
                }
            }
        }
    }

    /** Bytes [pos, end) of the file through positioned reads. */
    private final class RangeStream extends InputStream {
        private long pos;
        private final long end;

        RangeStream(long begin, long end) {
            this.pos = begin;
            this.end = end;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (pos >= end) {
                return -1;
            }
            int n = (int) Math.min(len, end - pos);
            if (channel != null) {
                n = channel.read(ByteBuffer.wrap(b, off, n), pos);
                if (n < 0) {
                    throw new EOFException(where + ": unexpected end of file at byte " + pos);
                }
            } else {
                in.readFully(pos, b, off, n);
            }
            pos += n;
            return n;
        }

        @Override
        public long skip(long n) {
            long k = Math.max(0, Math.min(n, end - pos));
            pos += k;
            return k;
        }

        @Override
        public int available() {
            return (int) Math.min(Integer.MAX_VALUE, end - pos);
        }
    }
}
