package dev.lmcmerge.data;

import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.io.ParquetStreams;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.ParquetDecodingException;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

/**
 * Parquet datasets as a Spark or pandas job leaves them: one file, or a folder (searched
 * recursively, e.g. hive-style partitions) of part files. Hidden entries ({@code _SUCCESS},
 * {@code .crc}, {@code _metadata}) are skipped; parts are read in path order, so the
 * concatenated row order and with it the train/eval split are deterministic.
 */
final class ParquetFiles {
    private ParquetFiles() {}

    /** The data files of a Parquet dataset, sorted by path; INVALID_INPUT if there are none. */
    static List<Path> list(Path location, Configuration conf) {
        FileStatus status = FileSystems.requireExists(location, conf, "Parquet dataset");
        if (!status.isDirectory()) {
            return List.of(location);
        }
        FileSystem fs = FileSystems.fs(location, conf);
        List<Path> files = new ArrayList<>();
        try {
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(location, true);
            while (it.hasNext()) {
                LocatedFileStatus f = it.next();
                if (f.isFile() && !hidden(location, f.getPath()) && f.getLen() > 0) {
                    files.add(f.getPath());
                }
            }
        } catch (IOException e) {
            throw FileSystems.ioError(location.toString(), "cannot list the Parquet folder", e);
        }
        if (files.isEmpty()) {
            throw LmcException.invalidInput(location.toString(), "empty dataset: the folder holds no Parquet part files");
        }
        files.sort(Comparator.comparing(Path::toString));
        return files;
    }

    /** True if any path component below {@code root} starts with '_' or '.' (Hadoop's hidden-file rule). */
    private static boolean hidden(Path root, Path file) {
        String base = root.toUri().getPath();
        String path = file.toUri().getPath();
        String relative = path.startsWith(base) ? path.substring(base.length()) : file.getName();
        for (String part : relative.split("/")) {
            if (part.startsWith("_") || part.startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The most rows plus values of the read columns a file may claim per byte it stores. Parquet's
     * run-length and dictionary encodings let a dozen bytes stand for billions of values (one run of
     * 10^8 copies of an id is a 275-byte file), which parquet-mr decodes for seconds to minutes or
     * until the heap runs out. Real data stays far below: a row of 2048 padding ids still costs
     * about ten bytes, real token ids one to two bytes each. parquet-mr checks the pages against
     * the footer's value counts ("Expected N values in column chunk"), so checking the footer
     * bounds the decoding work before any page is read.
     */
    static final long MAX_ENTRIES_PER_BYTE = 1024;

    /**
     * What a Parquet file's footer says (its schema and row groups) and the file's length, with the
     * opened input the rows are then read from (no second status call, an S3 request per file).
     */
    record Footer(Path file, InputFile input, MessageType schema, List<BlockMetaData> blocks, long bytes) {}

    /** The footer of {@code file}; INVALID_INPUT if it is not a Parquet file. */
    static Footer footer(Path file, Configuration conf) {
        InputFile in = ParquetStreams.input(file, conf);
        try (ParquetFileReader r = ParquetFileReader.open(in)) {
            ParquetMetadata meta = r.getFooter();
            return new Footer(file, in, meta.getFileMetaData().getSchema(), meta.getBlocks(), in.getLength());
        } catch (IOException | RuntimeException e) {
            throw new LmcException(dev.lmcmerge.config.ExitCode.INVALID_INPUT,
                    file + ": not a readable Parquet file (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Refuses a file whose footer claims more rows plus values of {@code fields} than
     * {@link #MAX_ENTRIES_PER_BYTE} per stored byte, or a negative count: corrupt counts or a
     * decompression bomb, refused before decoding rather than after minutes of it.
     */
    static void requirePlausibleCounts(Footer footer, String... fields) {
        List<String> read = List.of(fields);
        long budget = footer.bytes() * MAX_ENTRIES_PER_BYTE;
        long claimed = 0;
        for (BlockMetaData block : footer.blocks()) {
            claimed = addCount(claimed, block.getRowCount(), footer, "rows");
            for (ColumnChunkMetaData c : block.getColumns()) {
                if (read.contains(c.getPath().toArray()[0])) {
                    claimed = addCount(claimed, c.getValueCount(), footer, "values in column " + c.getPath());
                }
            }
        }
        if (claimed > budget) {
            throw LmcException.invalidInput(footer.file().toString(), "the footer claims " + claimed
                    + " rows and values in column " + String.join(", ", fields) + ", more than "
                    + MAX_ENTRIES_PER_BYTE + " per byte of the file's " + footer.bytes() + " bytes: corrupt counts,"
                    + " or data so repetitive no real dataset is like it (if it is real, rewrite it without"
                    + " dictionary encoding, e.g. pyarrow's use_dictionary=False)");
        }
    }

    private static long addCount(long sum, long count, Footer footer, String what) {
        if (count < 0) {
            throw LmcException.invalidInput(footer.file().toString(), "corrupt footer: " + count + " " + what);
        }
        long total = sum + count;
        return total < 0 ? Long.MAX_VALUE : total;
    }

    /**
     * The top-level field {@code column} of {@code schema}.
     *
     * @throws LmcException INVALID_INPUT naming the file, the column and the columns it has
     */
    static Type requireField(MessageType schema, String column, String expected, Path file) {
        if (!schema.containsField(column)) {
            List<String> names = new ArrayList<>();
            for (Type t : schema.getFields()) {
                names.add(t.getName());
            }
            throw LmcException.invalidInput(file.toString(), "missing column '" + column + "' (" + expected
                    + "); the file has columns " + names);
        }
        return schema.getType(column);
    }

    /** What is done with each record of a Parquet file; {@code row} counts from 0 within the file. */
    @FunctionalInterface
    interface RowConsumer {
        void accept(Group record, long row);
    }

    /**
     * Reads every record of the footer's file, projected to the top-level {@code fields}, in order,
     * after {@link #requirePlausibleCounts}. Every way parquet-mr fails on a file whose footer parsed
     * is turned into INVALID_INPUT naming the file; {@link LmcException}s thrown by {@code consumer}
     * pass through unchanged.
     */
    static void forEachRow(Footer footer, Configuration conf, RowConsumer consumer, String... fields) {
        requirePlausibleCounts(footer, fields);
        Path file = footer.file();
        String columns = String.join(", ", fields);
        long row = 0;
        try (ParquetReader<Group> reader = reader(footer, conf, fields)) {
            for (Group g = reader.read(); g != null; g = reader.read()) {
                consumer.accept(g, row++);
            }
        } catch (FileNotFoundException e) {
            throw FileSystems.ioError(file.toString(), "cannot read column " + columns, e);
        } catch (IOException | ParquetDecodingException e) {
            // The footer parsed, so a failure while decoding pages is the file's content (Parquet reports a
            // corrupt page header or a truncated chunk as IOException), as footer() treats the footer.
            throw corrupt(file, columns, row, e.getMessage(), e);
        } catch (LmcException e) {
            throw e;
        } catch (RuntimeException e) {
            // parquet-mr's decoders fail on hostile bytes with assorted unchecked exceptions.
            throw corrupt(file, columns, row, e.toString(), e);
        } catch (OutOfMemoryError e) {
            // parquet-mr sizes buffers from numbers in the file before checking them against the page
            // (a page header's compressed size, a bit-packed run's group count), so a few corrupt bytes
            // ask for gigabytes. That allocation fails alone and leaves the heap as it was; the fuzz
            // regression seeds regression-oom-page-size and regression-oom-bitpacked-run are two such files.
            throw corrupt(file, columns, row, "decoding row " + row + " asked for more memory than the heap has ("
                    + (Runtime.getRuntime().maxMemory() >> 20) + " MiB): a corrupt size or run length in the file,"
                    + " or a row too large for this heap", e);
        }
    }

    private static LmcException corrupt(Path file, String columns, long row, String detail, Throwable cause) {
        return new LmcException(dev.lmcmerge.config.ExitCode.INVALID_INPUT, file + ": corrupt Parquet data in column "
                + columns + " at or after row " + row + " (" + detail + ")", cause);
    }

    /** A record reader over the footer's file that materializes only the top-level {@code fields}. */
    private static ParquetReader<Group> reader(Footer footer, Configuration conf, String... fields) {
        MessageType schema = footer.schema();
        List<Type> projected = new ArrayList<>();
        for (String f : fields) {
            projected.add(schema.getType(f));
        }
        Configuration c = new Configuration(conf);
        c.set(ReadSupport.PARQUET_READ_SCHEMA, new MessageType(schema.getName(), projected).toString());
        try {
            return new ParquetReader.Builder<Group>(footer.input()) {
                @Override
                protected ReadSupport<Group> getReadSupport() {
                    return new GroupReadSupport();
                }
            }.withConf(c).build();
        } catch (IOException e) {
            throw FileSystems.ioError(footer.file().toString(), "cannot open Parquet file", e);
        }
    }
}
