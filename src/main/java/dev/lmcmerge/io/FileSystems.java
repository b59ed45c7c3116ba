package dev.lmcmerge.io;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * Where a location string points and which Hadoop {@link FileSystem} serves it.
 *
 * <p>Locations with a scheme ({@code file:}, {@code hdfs:}, {@code s3a:}, ...) pass through
 * unchanged. Locations without one, relative or absolute, mean the local file system, whatever
 * {@code fs.defaultFS} says: a user typing {@code models/a} means the folder next to them.
 */
public final class FileSystems {
    private FileSystems() {}

    /** The fully qualified path for a location string (see class comment). */
    public static Path resolve(String location) {
        if (location == null || location.isBlank()) {
            throw LmcException.usage("location", "empty path; expected a file or folder location");
        }
        String scheme = schemeOf(location);
        if (scheme != null) {
            return new Path(location);
        }
        return new Path(new File(location).getAbsoluteFile().toURI());
    }

    /** The scheme of {@code location}, or null when it has none (a Windows drive letter is not a scheme). */
    private static String schemeOf(String location) {
        try {
            String s = new URI(location).getScheme();
            return s != null && s.length() > 1 ? s : null;
        } catch (URISyntaxException e) {
            // Local paths may hold characters a URI forbids (spaces, '%'): they have no scheme.
            int colon = location.indexOf(':');
            int slash = location.indexOf('/');
            return colon > 1 && (slash < 0 || colon < slash)
                    && location.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*")
                    ? location.substring(0, colon) : null;
        }
    }

    /**
     * The file system serving {@code path}. For {@code file:} it is the raw local file system:
     * the checksumming wrapper would add {@code .crc} side files next to every checkpoint we write
     * and verify them on every read, neither of which a Hugging Face folder has.
     */
    public static FileSystem fs(Path path, Configuration conf) {
        try {
            FileSystem fs = path.getFileSystem(conf);
            if (fs instanceof LocalFileSystem local) {
                return local.getRawFileSystem();
            }
            return fs;
        } catch (IOException e) {
            String scheme = path.toUri().getScheme();
            String hint = "s3a".equals(scheme)
                    ? " (s3a needs org.apache.hadoop:hadoop-aws on the classpath and credentials in the configuration)"
                    : "";
            throw new LmcException(ExitCode.INVALID_INPUT,
                    path + ": no file system for this location: " + e.getMessage() + hint, e);
        }
    }

    /** True if {@code fs} reads the local disk directly, so files can be memory-mapped. */
    static boolean isLocal(FileSystem fs) {
        return fs instanceof RawLocalFileSystem;
    }

    /** The local {@link File} behind {@code path} on a local file system. */
    static File localFile(FileSystem fs, Path path) {
        return ((RawLocalFileSystem) fs).pathToFile(path);
    }

    /**
     * The status of {@code path}, which must exist.
     *
     * @param what what the path should be, for the message (e.g. "model folder")
     * @throws LmcException INVALID_INPUT naming the path if it does not exist
     */
    public static FileStatus requireExists(Path path, Configuration conf, String what) {
        FileSystem fs = fs(path, conf);
        try {
            return fs.getFileStatus(path);
        } catch (FileNotFoundException e) {
            throw LmcException.invalidInput(path.toString(), what + " does not exist");
        } catch (IOException e) {
            throw ioError(path.toString(), "cannot read " + what, e);
        }
    }

    /**
     * Checks that {@code target} (a file or folder to be written) can be created: its nearest
     * existing ancestor must be a folder. Catches the common mistake of an output path under a
     * regular file before any work is done; an ancestor that cannot be looked at (permissions,
     * an object store without a listing right) is left to the writer to report.
     *
     * @param key the option or configuration key naming the location, for the message
     * @throws LmcException USAGE naming the key, the target and the file in the way
     */
    public static void requireCreatable(Path target, Configuration conf, String key) {
        FileSystem fs = fs(target, conf);
        for (Path p = target.getParent(); p != null; p = p.getParent()) {
            FileStatus st;
            try {
                st = fs.getFileStatus(p);
            } catch (FileNotFoundException e) {
                continue;
            } catch (IOException e) {
                return;
            }
            if (!st.isDirectory()) {
                throw LmcException.usage(key, target + " cannot be created: " + p
                        + " is a file; expected a folder there (or a path that does not exist yet)");
            }
            return;
        }
    }

    /** True if {@code path} exists. */
    public static boolean exists(Path path, Configuration conf) {
        try {
            return fs(path, conf).exists(path);
        } catch (IOException e) {
            throw ioError(path.toString(), "cannot check whether it exists", e);
        }
    }

    /**
     * Turns an I/O failure into an {@link LmcException}: a missing file is invalid input (exit 3),
     * anything else a failure (exit 1), both naming {@code where}.
     */
    public static LmcException ioError(String where, String doing, IOException e) {
        if (e instanceof FileNotFoundException) {
            return new LmcException(ExitCode.INVALID_INPUT, where + ": does not exist (" + doing + ")", e);
        }
        return new LmcException(ExitCode.FAILURE, where + ": " + doing + ": " + e, e);
    }
}
