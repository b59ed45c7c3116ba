package dev.lmcmerge.io;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.util.HadoopStreams;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;
import org.apache.parquet.io.SeekableInputStream;

/**
 * Parquet's file abstractions opened through {@link FileSystems#fs}, so local files are read and
 * written raw. parquet-hadoop's own {@code HadoopInputFile}/{@code HadoopOutputFile} take the
 * checksumming local file system, which insists on {@code .crc} side files matching when reading
 * (files from pandas or copied around have none) and, when writing, computes a CRC of every byte
 * in Java and leaves a {@code .crc} beside every part file.
 */
public final class ParquetStreams {
    /** What parquet-hadoop's HadoopOutputFile passes to create(). */
    private static final int BUFFER_SIZE = 4096;

    private ParquetStreams() {}

    /**
     * {@code file} to read, with its length taken now.
     *
     * @throws dev.lmcmerge.config.LmcException naming the file if its status cannot be read
     */
    public static InputFile input(Path file, Configuration conf) {
        FileSystem fs = FileSystems.fs(file, conf);
        long length;
        try {
            length = fs.getFileStatus(file).getLen();
        } catch (IOException e) {
            throw FileSystems.ioError(file.toString(), "cannot read Parquet file", e);
        }
        return new InputFile() {
            @Override
            public long getLength() {
                return length;
            }

            @Override
            public SeekableInputStream newStream() throws IOException {
                return HadoopStreams.wrap(fs.open(file));
            }

            @Override
            public String toString() {
                return file.toString();
            }
        };
    }

    /** {@code file} to write, with HDFS block sizes as parquet-hadoop's HadoopOutputFile asks for them. */
    public static OutputFile output(Path file, Configuration conf) {
        FileSystem fs = FileSystems.fs(file, conf);
        return new OutputFile() {
            @Override
            public PositionOutputStream create(long blockSizeHint) throws IOException {
                return open(false, blockSizeHint);
            }

            @Override
            public PositionOutputStream createOrOverwrite(long blockSizeHint) throws IOException {
                return open(true, blockSizeHint);
            }

            private PositionOutputStream open(boolean overwrite, long blockSizeHint) throws IOException {
                return HadoopStreams.wrap(fs.create(file, overwrite, BUFFER_SIZE, fs.getDefaultReplication(file),
                        Math.max(fs.getDefaultBlockSize(file), blockSizeHint)));
            }

            @Override
            public boolean supportsBlockSize() {
                return true;
            }

            @Override
            public long defaultBlockSize() {
                return fs.getDefaultBlockSize(file);
            }

            @Override
            public String getPath() {
                return file.toString();
            }

            @Override
            public String toString() {
                return file.toString();
            }
        };
    }
}
