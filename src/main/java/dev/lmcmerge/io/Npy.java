package dev.lmcmerge.io;

import dev.lmcmerge.config.LmcException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0) on any Hadoop
 * file system: little-endian, C order. Written by hand because no Maven artifact reads npy
 * through a Hadoop stream; the format is a fixed magic, a Python-literal header and raw bytes.
 */
public final class Npy {
    private Npy() {}

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /**
     * Reads a whole {@code .npy} file.
     *
     * @throws LmcException INVALID_INPUT naming the file if it is missing or not a supported npy array
     */
    public static NpyArray read(Path file, Configuration conf) {
        String where = file.toString();
        long length = FileSystems.requireExists(file, conf, "npy file").getLen();
        FileSystem fs = FileSystems.fs(file, conf);
        try (FSDataInputStream in = fs.open(file)) {
            if (length < 10) {
                throw LmcException.invalidInput(where, "file is " + length + " bytes; not an npy file");
            }
            byte[] pre = new byte[12];
            in.readFully(0, pre, 0, (int) Math.min(12, length));
            for (int i = 0; i < MAGIC.length; i++) {
                if (pre[i] != MAGIC[i]) {
                    throw LmcException.invalidInput(where, "does not start with the npy magic \\x93NUMPY");
                }
            }
            int major = pre[6] & 0xff;
            long headerLen;
            int prefix;
            ByteBuffer p = ByteBuffer.wrap(pre).order(ByteOrder.LITTLE_ENDIAN);
            if (major == 1) {
                headerLen = p.getShort(8) & 0xffff;
                prefix = 10;
            } else if (major == 2 || major == 3) {
                headerLen = p.getInt(8) & 0xffffffffL;
                prefix = 12;
            } else {
                throw LmcException.invalidInput(where, "npy format version " + major + " is not supported; expected 1, 2 or 3");
            }
            if (prefix + headerLen > length) {
                throw LmcException.invalidInput(where, "npy header longer than the file (truncated?)");
            }
            byte[] h = new byte[(int) headerLen];
            in.readFully(prefix, h, 0, h.length);
            String header = new String(h, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            DType dtype = dtypeOf(match(DESCR, header, "descr", where), where);
            if ("True".equals(match(FORTRAN, header, "fortran_order", where))) {
                throw LmcException.invalidInput(where, "array is in Fortran order; expected C order (numpy.ascontiguousarray)");
            }
            long[] shape = parseShape(match(SHAPE, header, "shape", where), where);
            long numel = 1;
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            long bytes = Math.multiplyExact(numel, (long) dtype.byteSize());
            long dataStart = prefix + headerLen;
            if (dataStart + bytes != length) {
                throw LmcException.invalidInput(where, "shape " + java.util.Arrays.toString(shape) + " needs " + bytes
                        + " data bytes but the file holds " + (length - dataStart));
            }
            if (bytes > Integer.MAX_VALUE) {
                throw LmcException.invalidInput(where, bytes + " bytes exceed one buffer (2 GB)");
            }
            byte[] data = new byte[(int) bytes];
            in.readFully(dataStart, data, 0, data.length);
            return new NpyArray(dtype, shape, ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN));
        } catch (ArithmeticException e) {
            throw LmcException.invalidInput(where, "npy shape overflows a 64-bit byte count");
        } catch (IOException e) {
            throw FileSystems.ioError(where, "cannot read npy file", e);
        }
    }

    /** Writes {@code array} as an npy 1.0 file (2.0 if the header needs it), overwriting. */
    public static void write(Path file, Configuration conf, NpyArray array) {
        FileSystem fs = FileSystems.fs(file, conf);
        try (OutputStream out = fs.create(file, true)) {
            out.write(encodeHeader(array));
            ByteBuffer data = array.data();
            if (data.hasArray()) {
                out.write(data.array(), data.arrayOffset(), data.limit());
            } else {
                Channels.newChannel(out).write(data);
            }
        } catch (IOException e) {
            throw FileSystems.ioError(file.toString(), "cannot write npy file", e);
        }
    }

    /** Magic, version, length and the header dict padded (as numpy does) to a multiple of 64 bytes. */
    static byte[] encodeHeader(NpyArray array) {
        StringBuilder shape = new StringBuilder("(");
        long[] s = array.shape();
        for (int i = 0; i < s.length; i++) {
            shape.append(i > 0 ? ", " : "").append(s[i]);
        }
        if (s.length == 1) {
            shape.append(',');
        }
        shape.append(')');
        String dict = "{'descr': '" + descrOf(array.dtype()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int major = dict.length() + 11 > 65535 ? 2 : 1;
        int prefix = major == 1 ? 10 : 12;
        int total = (prefix + dict.length() + 1 + 63) / 64 * 64;
        StringBuilder h = new StringBuilder(dict);
        while (prefix + h.length() + 1 < total) {
            h.append(' ');
        }
        h.append('\n');
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(MAGIC);
        b.write(major);
        b.write(0);
        int len = h.length();
        b.write(len & 0xff);
        b.write((len >>> 8) & 0xff);
        if (major == 2) {
            b.write((len >>> 16) & 0xff);
            b.write((len >>> 24) & 0xff);
        }
        b.writeBytes(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        return b.toByteArray();
    }

    private static String match(Pattern p, String header, String key, String where) {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw LmcException.invalidInput(where, "npy header has no '" + key + "': " + header.trim());
        }
        return m.group(1);
    }

    private static long[] parseShape(String s, String where) {
        String t = s.trim();
        if (t.isEmpty()) {
            return new long[0];
        }
        String[] parts = t.split(",");
        int n = parts.length;
        if (n == 0) { // "(,)" or "(,,)": commas without a single dimension
            throw LmcException.invalidInput(where, "npy shape (" + s + ") is not a tuple of integers");
        }
        if (parts[n - 1].isBlank()) {
            n--;
        }
        long[] shape = new long[n];
        for (int i = 0; i < n; i++) {
            try {
                shape[i] = Long.parseLong(parts[i].trim().replace("L", ""));
            } catch (NumberFormatException e) {
                throw LmcException.invalidInput(where, "npy shape (" + s + ") is not a tuple of integers");
            }
            if (shape[i] < 0) {
                throw LmcException.invalidInput(where, "npy shape (" + s + ") has a negative dimension");
            }
        }
        return shape;
    }

    private static DType dtypeOf(String descr, String where) {
        return switch (descr) {
            case "<f8" -> DType.F64;
            case "<f4" -> DType.F32;
            case "<f2" -> DType.F16;
            case "<i8" -> DType.I64;
            case "<i4" -> DType.I32;
            case "<i2" -> DType.I16;
            case "|i1" -> DType.I8;
            case "|u1" -> DType.U8;
            case "|b1" -> DType.BOOL;
            default -> throw LmcException.invalidInput(where, "npy dtype '" + descr
                    + "' is not supported; expected little-endian <f4, <f8, <i4, <i8 (also <f2, <i2, |i1, |u1, |b1)");
        };
    }

    private static String descrOf(DType d) {
        return switch (d) {
            case F64 -> "<f8";
            case F32 -> "<f4";
            case F16 -> "<f2";
            case I64 -> "<i8";
            case I32 -> "<i4";
            case I16 -> "<i2";
            case I8 -> "|i1";
            case U8 -> "|u1";
            case BOOL -> "|b1";
            case BF16 -> throw new IllegalArgumentException("npy has no bfloat16 dtype");
        };
    }
}
