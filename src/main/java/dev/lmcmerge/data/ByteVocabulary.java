package dev.lmcmerge.data;

/**
 * The byte-level vocabulary: token id = byte value (0..255) of the UTF-8 text. Used when no
 * {@code tokenizer.json} is given, and by the demo models, which need no tokenizer file at all.
 */
public final class ByteVocabulary {
    /** Number of token ids. */
    public static final int SIZE = 256;

    private ByteVocabulary() {}

    /** The token ids of {@code bytes[0, length)}. */
    public static int[] encode(byte[] bytes, int length) {
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = bytes[i] & 0xff;
        }
        return ids;
    }

    /** The bytes that token ids stand for, decoded as UTF-8 (invalid sequences become U+FFFD). */
    public static String decode(long[] ids) {
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            b[i] = (byte) ids[i];
        }
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }
}
