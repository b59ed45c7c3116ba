package dev.lmcmerge.data;

import dev.lmcmerge.config.LmcException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;

/**
 * Reads the token stream of a Parquet dataset: the {@code input_ids} column of every row, in
 * file then row order, concatenated. The column may be any Parquet list of int32 or int64 as
 * Spark, pyarrow or Hugging Face datasets write it (3-level {@code LIST}, legacy 2-level, or a
 * bare repeated field). Null lists count as empty; null elements are invalid.
 */
final class ParquetTokens {
    static final String COLUMN = "input_ids";

    private ParquetTokens() {}

    static TokenBuffer read(Path location, Configuration conf) {
        TokenBuffer out = new TokenBuffer();
        for (Path file : ParquetFiles.list(location, conf)) {
            readFile(file, conf, out);
        }
        return out;
    }

    private static void readFile(Path file, Configuration conf, TokenBuffer out) {
        ParquetFiles.Footer footer = ParquetFiles.footer(file, conf);
        Type field = ParquetFiles.requireField(footer.schema(), COLUMN, "a list of int32 or int64 token ids", file);
        Layout layout = Layout.of(field, file);
        ParquetFiles.forEachRow(footer, conf, (g, row) -> layout.append(g, out, file, row), COLUMN);
    }

    /** How the ids sit inside the column's nesting, worked out once per file from its schema. */
    private record Layout(boolean bareRepeated, boolean elementWrapped, boolean int64) {

        static Layout of(Type field, Path file) {
            if (field.isPrimitive()) {
                if (!field.isRepetition(Type.Repetition.REPEATED)) {
                    throw notAList(field, file);
                }
                return new Layout(true, false, isInt64(field.asPrimitiveType(), file));
            }
            GroupType list = field.asGroupType();
            if (list.getFieldCount() != 1 || !list.getType(0).isRepetition(Type.Repetition.REPEATED)) {
                throw notAList(field, file);
            }
            Type repeated = list.getType(0);
            if (repeated.isPrimitive()) {
                return new Layout(false, false, isInt64(repeated.asPrimitiveType(), file));
            }
            GroupType element = repeated.asGroupType();
            if (element.getFieldCount() != 1 || !element.getType(0).isPrimitive()) {
                throw notAList(field, file);
            }
            return new Layout(false, true, isInt64(element.getType(0).asPrimitiveType(), file));
        }

        void append(Group row, TokenBuffer out, Path file, long rowIndex) {
            if (row.getFieldRepetitionCount(0) == 0) {
                return;
            }
            if (bareRepeated) {
                int n = row.getFieldRepetitionCount(0);
                for (int i = 0; i < n; i++) {
                    out.add(id(row, i, file, rowIndex));
                }
                return;
            }
            Group list = row.getGroup(0, 0);
            int n = list.getFieldRepetitionCount(0);
            for (int i = 0; i < n; i++) {
                if (!elementWrapped) {
                    out.add(id(list, i, file, rowIndex));
                    continue;
                }
                Group element = list.getGroup(0, i);
                if (element.getFieldRepetitionCount(0) == 0) {
                    throw LmcException.invalidInput(file.toString(), "column " + COLUMN + ", row " + rowIndex
                            + ": null token id at position " + i);
                }
                out.add(id(element, 0, file, rowIndex));
            }
        }

        private int id(Group g, int index, Path file, long rowIndex) {
            long v = int64 ? g.getLong(0, index) : g.getInteger(0, index);
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw LmcException.invalidInput(file.toString(), "column " + COLUMN + ", row " + rowIndex
                        + ": token id " + v + " is not a vocabulary index (expected 0 <= id < 2^31)");
            }
            return (int) v;
        }

        private static boolean isInt64(PrimitiveType t, Path file) {
            if (t.getPrimitiveTypeName() == PrimitiveTypeName.INT64) {
                return true;
            }
            if (t.getPrimitiveTypeName() == PrimitiveTypeName.INT32) {
                return false;
            }
            throw LmcException.invalidInput(file.toString(), "column " + COLUMN + " holds "
                    + t.getPrimitiveTypeName() + " values; expected int32 or int64 token ids");
        }

        private static LmcException notAList(Type field, Path file) {
            return LmcException.invalidInput(file.toString(), "column " + COLUMN + " is " + field
                    + "; expected a list of int32 or int64 token ids");
        }
    }
}
